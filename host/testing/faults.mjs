// Seeded fault injection for a whole virtual installation (host/testing/rig.mjs): one fault at a time, at
// random virtual times, each recorded with when it started and when it cleared, so a soak
// (host/testing/soak.mjs) can say for each fault whether the firmware got readings through again within
// the allowed time after it cleared.
//
//   const faults = createFaultScheduler(rig, { seed: 7, meanIntervalMs: 600000 });
//   faults.start();            // the first fault comes ~meanIntervalMs from now
//   await rig.until(...);      // virtual time runs; faults happen on rig.clock
//   faults.stop();             // no new ones; an active one still clears at its time
//   faults.records             // [{ id, kind, variant, start, clear, params, note, cutAt? }]
//                              // (cutAt: when the power went, for the power kinds)
//
// Timing. Starts are a Poisson-like process (exponential gaps of mean meanIntervalMs from the
// previous start), except that a fault never starts before the previous one cleared plus
// minGapMs (default 150 s: the 120 s recovery window of the previous fault plus a margin), so
// every fault has its recovery window to itself. Durations are uniform in each kind's range.
// Randomness comes only from the seeded PRNG below (never Math.random); with the same seed, rig
// and firmware a run is the same run.
//
// What "clear" means per kind (the moment the world is healthy again; recovery is judged from it):
//   mqtt-drop, pdp-deact, modem-reboot, garbage   momentary: clear = start
//   network-loss      coverage back (restoreNetwork)
//   modem-hang        the modem answers again: the hang's end, or earlier if the firmware reset
//                     or power-cycled the modem (a reset ends a hang, at-modem-core.mjs)
//   broker-restart    the broker listens again
//   pub-timeout       the window ends (A76xx: PUBs started in it still time out pub_timeout later)
//   puback-withheld   the broker acknowledges again
//   power-loss        power is back (the ESP32 cold-boots, the modem waits for PWRKEY)
//   outage-power-loss coverage back (power came back earlier, during the outage)

/** A small seeded PRNG (mulberry32 over a string/number seed hashed with xmur3). */
export function createRng(seed) {
  let h = 1779033703 ^ String(seed).length;
  for (const ch of String(seed)) {
    h = Math.imul(h ^ ch.charCodeAt(0), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  let a = (h ^= h >>> 16) >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** uniform in [lo, hi) */
    between: (lo, hi) => lo + (hi - lo) * next(),
    /** integer in [lo, hi] */
    int: (lo, hi) => lo + Math.floor((hi - lo + 1) * next()),
    pick: (arr) => arr[Math.floor(arr.length * next())],
    /** exponential with the given mean */
    exp: (mean) => -Math.log(1 - next()) * mean,
  };
}

const S = 1000;
const MIN = 60 * S;
const FLASH_WAIT_MS = 2 * MIN; // power-loss "in-flash-write": how long to wait for a flash write

// Known URCs that can come out of turn (modem-facts §A.1/§A.3 for the A76xx, §B.1 for the SIM800).
const STRAY_URCS = {
  A76xx: ['+CSQ: 99,99', '+CREG: 2', '+CEREG: 2', '+CGREG: 2', 'PB DONE', 'SMS DONE', '+CPIN: READY', '+CGEV: EPS PDN ACT 1'],
  SIM800: ['+CSQ: 99,99', '+CREG: 2', '+CFUN: 1', '+CPIN: READY', 'Call Ready', 'SMS Ready', 'DST: 0'],
};

function noiseBytes(rng, n) {
  // line noise: anything but CR and LF (so it glues onto the next line the host reads)
  let s = '';
  for (let i = 0; i < n; i++) {
    let c = rng.int(0, 255);
    if (c === 13 || c === 10) c = 0xff;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * The fault kinds. Each: applies(rig) → bool; run(ctx) starts it and calls ctx.clear() when the
 * world is healthy again (at once for momentary ones). ctx: { rig, rng, rec, after(ms, fn),
 * every(ms, fn) → stop fn, clear(note?) }. Durations (ms) can be changed through options.durations.
 */
export const FAULT_KINDS = {
  'mqtt-drop': {
    about: 'the broker side closes the MQTT connection (A76xx +CMQTTCONNLOST: 0,<1|2>; SIM800 "<n>, CLOSED")',
    applies: () => true,
    run({ rig, rng, rec, clear }) {
      const m = rig.modem;
      if (m.dropMqtt) {
        const cause = rng.pick([1, 2]);
        rec.params = { cause };
        if (!m.dropMqtt(cause)) rec.note = 'no MQTT connection was up: nothing dropped';
      } else {
        const link = (m.state.links || []).find((l) => l.state === 'CONNECTED');
        rec.params = { link: link ? link.n : null };
        if (!link || !m.dropLink(link.n)) rec.note = 'no link was connected: nothing dropped';
      }
      clear();
    },
  },
  'pdp-deact': {
    about: 'SIM800: the PDP context drops ("<n>, CLOSED", "+PDP: DEACT")',
    applies: (rig) => typeof rig.modem.pdpDeact === 'function',
    run({ rig, rec, clear }) {
      if (!rig.modem.pdpDeact()) rec.note = 'no PDP context was up: nothing happened';
      clear();
    },
  },
  'network-loss': {
    about: 'coverage lost (deregistration, data bearer gone) for a while, then back',
    applies: () => true,
    duration: [30 * S, 10 * MIN],
    run({ rig, rng, rec, after, clear }) {
      const stat = rng.pick([0, 2]);
      rec.params = { stat, ms: rec.duration };
      rig.modem.loseNetwork({ stat });
      after(rec.duration, () => {
        rig.modem.restoreNetwork();
        clear();
      });
    },
  },
  'modem-hang': {
    about: 'the modem stops answering (input lost, output held) until it recovers or is reset',
    applies: () => true,
    duration: [10 * S, 5 * MIN],
    run({ rig, rec, every, clear }) {
      rec.params = { ms: rec.duration };
      if (rig.modem.power.state !== 'on') {
        rec.note = 'the modem was not on: nothing hung';
        return clear();
      }
      rig.modem.hang(rec.duration);
      const stop = every(S, () => {
        if (rig.modem.hung) return;
        stop();
        if (rig.clock.now() < rec.start + rec.duration - S) rec.note = 'ended early by a modem reset';
        clear();
      });
    },
  },
  'modem-reboot': {
    about: 'the modem restarts by itself (state lost, banner again)',
    applies: () => true,
    run({ rig, rec, clear }) {
      if (!rig.modem.reboot()) rec.note = 'the modem was not on: nothing rebooted';
      clear();
    },
  },
  'broker-restart': {
    about: 'the broker process restarts: connections cut, the ports refuse connections while down',
    applies: (rig) => typeof rig.broker.stop === 'function',
    duration: [5 * S, 3 * MIN],
    run({ rig, rec, after, clear, fail }) {
      rec.params = { downMs: rec.duration };
      rig.broker.stop().catch(fail);
      after(rec.duration, () => rig.broker.start().then(() => clear(), fail));
    },
  },
  garbage: {
    about: 'bytes nobody asked for on the modem UART: noise without line ends, a junk line, a stray URC, or one of those inside the next answer',
    applies: () => true,
    run({ rig, rng, rec, clear }) {
      const urcs = STRAY_URCS[rig.board.modem] || STRAY_URCS.A76xx;
      const variant = rng.pick(['noise', 'line', 'urc', 'in-answer']);
      let text;
      if (variant === 'noise') text = noiseBytes(rng, rng.int(1, 24));
      else if (variant === 'line') text = `\r\n${noiseBytes(rng, rng.int(1, 40))}\r\n`;
      else text = `\r\n${rng.pick(urcs)}\r\n`;
      if (variant === 'in-answer') {
        const at = rng.pick(['before-final', 'middle', 'start']);
        rec.params = { text, at };
        rig.modem.inject(text, { into: true, at });
      } else {
        rec.params = { text };
        rig.modem.inject(text);
      }
      rec.variant = variant;
      clear();
    },
  },
  'pub-timeout': {
    about: 'publishes are never acknowledged for a while (A76xx: +CMQTTPUB: 0,17 after pub_timeout; SIM800: the broker withholds PUBACKs)',
    applies: () => true,
    duration: [30 * S, 3 * MIN],
    run({ rig, rng, rec, after, clear }) {
      if (rig.modem.pubTimeout) {
        const delivered = rng.next() < 0.5;
        rec.variant = delivered ? 'puback-lost' : 'publish-lost';
        rec.params = { ms: rec.duration, delivered };
        rig.modem.pubTimeout({ count: Infinity, delivered });
        after(rec.duration, () => {
          rig.modem.pubTimeout({ count: 0 });
          clear();
        });
      } else {
        // the SIM800 path runs its own MQTT client: no modem-side timeout, the broker stops acking
        rec.variant = 'broker-withholds';
        FAULT_KINDS['puback-withheld'].run({ rig, rec, after, clear });
      }
    },
    acksLost: true,
  },
  'puback-withheld': {
    about: "the broker takes PUBLISHes but sends no PUBACK for a while (on the A76xx each one holds real time for the modem link's guard: slow)",
    applies: (rig) => typeof rig.broker.withholdPubacks === 'function',
    duration: [30 * S, 3 * MIN],
    run({ rig, rec, after, clear }) {
      rec.params = { ms: rec.duration };
      rig.broker.withholdPubacks(true);
      after(rec.duration, () => {
        rig.broker.withholdPubacks(false);
        clear();
      });
    },
    acksLost: true,
  },
  'power-loss': {
    about: 'the whole board loses power (flash kept), then power returns; variant "in-flash-write" cuts during one of the next flash operations (torn)',
    applies: (rig) => typeof rig.powerLoss === 'function',
    duration: [5 * S, 3 * MIN],
    run({ rig, rng, rec, after, every, clear }) {
      rec.params = { offMs: rec.duration };
      const flash = rig.device.storage && rig.device.storage.flash;
      const back = () =>
        after(rec.duration, () => {
          rig.powerRestore();
          clear();
        });
      if (flash && flash.failAfterWrites && rng.next() < 0.5) {
        rec.variant = 'in-flash-write';
        // the cut tears the 1st..4th flash operation from now (a reading's store, its
        // acknowledgement mark, a segment header…)
        const skip = rng.int(0, 3);
        rec.params.afterWrites = skip;
        flash.failAfterWrites(skip, { torn: true });
        const armedAt = rig.clock.now();
        const stop = every(100, () => {
          if (rig.device.state === 'off') {
            stop();
            rec.start = rec.cutAt = rig.clock.now(); // the cut is the fault's start
            rig.powerLoss();
            return back();
          }
          if (rig.clock.now() - armedAt >= FLASH_WAIT_MS) {
            stop();
            flash.failAfterWrites(-1);
            rec.note = `no flash write within ${FLASH_WAIT_MS / 1000} s: a plain power loss instead`;
            rec.start = rec.cutAt = rig.clock.now();
            rig.powerLoss();
            back();
          }
        });
        return;
      }
      rec.variant = 'plain';
      rec.cutAt = rig.clock.now();
      rig.powerLoss();
      back();
    },
  },
  'outage-power-loss': {
    about: 'coverage lost, and while readings wait for it the board loses power for a while (the flash-kept queue must bring them through)',
    applies: (rig) => typeof rig.powerLoss === 'function',
    duration: [3 * MIN, 10 * MIN],
    run({ rig, rng, rec, after, clear }) {
      const offAt = Math.round(rng.between(0.3, 0.6) * rec.duration);
      const offMs = Math.round(rng.between(5 * S, Math.min(2 * MIN, rec.duration - offAt - 10 * S)));
      rec.params = { ms: rec.duration, powerOffAt: offAt, offMs };
      rig.modem.loseNetwork({ stat: 2 });
      after(offAt, () => {
        rec.cutAt = rig.clock.now();
        rig.powerLoss();
        after(offMs, () => rig.powerRestore());
      });
      after(rec.duration, () => {
        rig.modem.restoreNetwork();
        clear();
      });
    },
  },
};

/** The fault kinds for a rig's board when none are given: everything that applies, except the slow puback-withheld on the A76xx (pub-timeout covers it there). */
export function defaultKinds(rig) {
  return Object.keys(FAULT_KINDS).filter((k) => {
    if (!FAULT_KINDS[k].applies(rig)) return false;
    if (k === 'puback-withheld') return false; // SIM800: pub-timeout is this; A76xx: slow in real time
    return true;
  });
}

/**
 * @param rig createRig() result (clock, modem, broker, device, powerLoss/powerRestore)
 * @param o.seed PRNG seed (number or string)
 * @param o.meanIntervalMs mean gap between fault starts (600000: ~every 10 simulated minutes)
 * @param o.kinds fault kind names (default defaultKinds(rig)); a kind may appear more than once to weigh it
 * @param o.minGapMs a fault starts no earlier than the previous clear + this (default 150000)
 * @param o.durations { kind: [loMs, hiMs] } overrides
 * @param o.onFault (rec, phase: 'start'|'clear') for logging
 */
export function createFaultScheduler(rig, { seed = 1, meanIntervalMs = 600000, kinds, minGapMs = 150000, durations = {}, onFault } = {}) {
  const clock = rig.clock;
  const rng = createRng(seed);
  kinds = kinds || defaultKinds(rig);
  for (const k of kinds) {
    if (!FAULT_KINDS[k]) throw new Error(`faults: unknown kind ${k} (known: ${Object.keys(FAULT_KINDS).join(', ')})`);
    if (!FAULT_KINDS[k].applies(rig)) throw new Error(`faults: ${k} does not apply to ${rig.board.id}`);
  }
  const records = [];
  const errors = [];
  let running = false;
  let active = null;
  let nextTimer = null;
  let lastStart = null;

  function planNext() {
    if (!running || active || nextTimer != null) return;
    const now = clock.now();
    const prev = records[records.length - 1];
    const earliest = prev ? prev.clear + minGapMs : now;
    const base = lastStart ?? now;
    const at = Math.max(base + rng.exp(meanIntervalMs), earliest, now);
    nextTimer = clock.setTimeout(() => {
      nextTimer = null;
      fire();
    }, at - now);
  }

  function fire() {
    if (!running) return;
    const kind = rng.pick(kinds);
    const def = FAULT_KINDS[kind];
    const range = durations[kind] || def.duration;
    const rec = {
      id: records.length + 1,
      kind,
      variant: null,
      start: clock.now(),
      clear: null,
      duration: range ? Math.round(rng.between(range[0], range[1])) : 0,
      params: null,
      note: null,
      acksLost: !!def.acksLost,
    };
    records.push(rec);
    active = rec;
    lastStart = rec.start;
    const stoppers = [];
    const ctx = {
      rig,
      rng,
      rec,
      after: (ms, fn) => clock.setTimeout(fn, ms),
      every(ms, fn) {
        const id = clock.setInterval(fn, ms);
        const stop = () => clock.clearInterval(id);
        stoppers.push(stop);
        return stop;
      },
      clear(note) {
        if (rec.clear != null) return;
        if (note) rec.note = note;
        rec.clear = clock.now();
        active = null;
        if (onFault) onFault(rec, 'clear');
        planNext();
      },
      fail(err) {
        errors.push(err);
        rec.note = `host error: ${err && err.message}`;
        ctx.clear();
      },
    };
    if (onFault) onFault(rec, 'start');
    def.run(ctx);
  }

  return {
    records,
    errors,
    kinds,
    rng,
    get active() {
      return active;
    },
    /** faults from now on (the first ~meanIntervalMs from now) */
    start() {
      running = true;
      planNext();
    },
    /** no new faults; one that is active still clears at its time */
    stop() {
      running = false;
      if (nextTimer != null) clock.clearTimeout(nextTimer);
      nextTimer = null;
    },
  };
}
