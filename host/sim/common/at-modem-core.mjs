// The core shared by the AT modem simulators (a76xx/ and sim800/): everything between the
// board's UART/pins and a modem's command handlers. It owns
//   - the UART side: bytes in (transcript, stats), the command-line assembly (echo, backspace,
//     LF ignored), one command at a time (bytes that arrive while a command is being answered
//     wait in the input buffer), the data prompt (exactly <len> bytes, or up to Ctrl-Z with ESC
//     cancelling when no length is given), and what the modem writes (transcript, stats);
//   - the answer builder handed to every handler: info / ok / error / cme (per AT+CMEE) / fail /
//     prompt / then / async, and the per-command answer latency;
//   - URCs: counting, optionally holding them back while a command's answer or a data prompt
//     is in progress (SIM800), the banner lines by boot phase;
//   - the settings every V.25ter modem has: ATE, AT&F, ATV, ATQ, AT+CMEE;
//   - timers tied to a power generation (after/clearTimer: a power transition turns older
//     timers into no-ops), beginOp/stateChanged and the idle-gap statistics
//     (host/README.md "Timing figures");
//   - the faults both modems share (for reliability tests and the soak, host/testing/faults.mjs): hang,
//     spontaneous reboot, loss of the supply, and bytes on the UART that the host did not ask
//     for (garbage, unsolicited lines, also inside another command's answer);
//   - the power wiring: the modem's power module (./power.mjs or a wrapper of it) drives
//     boot (bootMs, then the 'boot' banner, the modem's onReady, the 'late' banner after
//     lateBannerMs), power down and reboot; every transition resets the per-boot state.
// What is specific to one modem (its commands, banner texts, flash, autobaud, faults, the public
// `state`) stays in its index.mjs, which passes the differences as the options below.
//
// Usage: const core = createAtModemCore({...}); the command modules get `core.m`; then
// core.start({ basic, handlers, onReady, onReset, ... }) wires the UART and the power pins and
// returns the power object; core.expose({...}) builds the public modem object.

import { createTranscript } from './transcript.mjs';
import { parseLine } from './at-parse.mjs';
import { CME } from './cme.mjs';

/**
 * @param {object} o
 * @param {string} o.prompt the data prompt as written ("\r\n>" A76xx, "\r\n> " SIM800)
 * @param {boolean} [o.swallowCrLfAfterData] a CR/LF right after a length-delimited block is
 *   ignored (A76xx, modem-facts §A.0)
 * @param {boolean} [o.holdUrcs] URCs wait until a command's answer or a data prompt has ended
 * @param {boolean} [o.promptIsBusy] a pending data prompt counts as the modem's own work in
 *   stats.idleGapMs (SIM800) rather than as time spent waiting for the host (A76xx)
 * @param {boolean} [o.cmeeExec] "AT+CMEE" (execute form) restores the default
 * @param {(b) => void} [o.badParameter] the answer of the core's commands to a bad parameter
 * @param {{line: string, phase: string}[]} [o.banner] URC lines by phase ('boot' at UART
 *   ready, 'late' lateBannerMs later; other phases are printed by the modem's own modules)
 * @param {Function} o.createPower (o.powerTiming passed as `timing`), e.g. createPower
 * @param {object} [o.stats] modem-specific counters added to the common ones
 */
export function createAtModemCore({
  clock,
  device,
  board,
  opts,
  flash,
  stats: extraStats = {},
  cmeeDefault,
  latencyMs = 10,
  bootMs,
  lateBannerMs,
  banner = [],
  prompt,
  swallowCrLfAfterData = false,
  holdUrcs = false,
  promptIsBusy = false,
  cmeeExec = false,
  badParameter = (b) => b.error(),
  createPower,
  powerTiming,
}) {
  const transcript = createTranscript(clock);
  const serial = device.serial(board.uart.port);
  const stats = { bytesIn: 0, bytesOut: 0, commands: 0, byCommand: {}, urcs: 0, idleGapMs: 0, idleGaps: 0, boots: 0, ...extraStats };
  Object.defineProperty(stats, 'powerCuts', { enumerable: true, get: () => power.info.powerCuts });
  const errors = [];

  // hooks set by start()
  let hooks = { canUrc: () => true, bannerOn: () => true, acceptInput: (d) => d, output: (t) => t, onReady() {}, onReset() {}, onPowerState() {} };
  let basic = {};
  let handlers = {};
  let power = null;

  let gen = 0; // bumps on every power transition: older timers and callbacks become no-ops
  let ready = false;
  let echo = true;
  let cmee = cmeeDefault;
  let processing = false; // a command is being answered
  let ops = 0; // the modem's own work in progress (beginOp)
  let inbuf = '';
  let line = '';
  let dataMode = null; // { need (null = until Ctrl-Z), buf, fn }
  let skipCrLf = false;
  let swallow = false; // the next command line is taken without echo or answer
  let pendingUrc = '';
  let hungUntil = -1;
  let heldOut = '';
  let hangTimer = null;
  let hardHang = false; // the hang also ignores PWRKEY's power-off (see hang())
  let inserts = []; // inject(…, {into}) waiting for the answer they go into
  let idleMark = clock.now();

  const isHung = () => clock.now() < hungUntil;
  function idleNow() {
    const st = power.info.state;
    if (st !== 'on' && st !== 'off') return false;
    return !processing && ops === 0 && !isHung() && !(promptIsBusy && dataMode);
  }
  const markActivity = () => {
    idleMark = clock.now();
  };
  function hostAction() {
    if (idleNow()) {
      const gap = clock.now() - idleMark;
      if (gap > 0) {
        stats.idleGapMs += gap;
        stats.idleGaps++;
      }
    }
    markActivity();
  }

  function raw(text) {
    if (!text) return;
    if (isHung()) {
      heldOut += text;
      return;
    }
    text = hooks.output(text); // the modem's low-power state (sleep.mjs): may wake it, or hold the bytes
    if (!text) return;
    transcript.add('out', text);
    stats.bytesOut += text.length;
    serial.rxWrite(text);
    markActivity();
  }
  function urcRaw(text) {
    if (!hooks.canUrc()) return;
    stats.urcs++;
    if (holdUrcs && (processing || dataMode)) pendingUrc += text;
    else raw(text);
  }
  function flushUrcs() {
    if (processing || dataMode || !pendingUrc) return;
    const t = pendingUrc;
    pendingUrc = '';
    raw(t);
  }

  function powerDown(why) {
    power.set('shutdown', { kind: why });
    clock.setTimeout(() => {
      if (power.info.state === 'shutdown') power.set('off', { kind: why });
    }, power.timing.shutdownMs);
  }

  /** what the command modules get (the modem adds its own fields, e.g. networkLost) */
  const m = {
    clock,
    opts,
    stats,
    flash,
    gen: () => gen,
    after(ms, fn) {
      const g = gen;
      return clock.setTimeout(() => {
        if (g === gen) fn();
      }, ms);
    },
    clearTimer: (id) => id != null && clock.clearTimeout(id),
    raw,
    urc: (l) => urcRaw(`\r\n${l}\r\n`),
    urcRaw,
    /** the modem's own work starts (not idle); call the returned fn when it ends */
    beginOp() {
      ops++;
      const g = gen;
      let done = false;
      return () => {
        if (done || g !== gen) return;
        done = true;
        ops--;
        markActivity();
      };
    },
    stateChanged: markActivity,
    bannerPhase(phase) {
      if (!hooks.bannerOn()) return;
      for (const b of banner) if (b.phase === phase) m.urc(b.line);
    },
    reboot(why) {
      power.set('booting', { kind: why, t0: clock.now() });
    },
    powerDown,
  };

  // ---- answers -------------------------------------------------------------------------------
  function builder() {
    const b = { parts: [], promptSpec: null, thenFns: [], asyncFn: null };
    b.info = (...lines) => {
      if (lines.length) b.parts.push(`\r\n${lines.join('\r\n')}\r\n`);
      return b;
    };
    b.ok = () => (b.parts.push('\r\nOK\r\n'), b);
    b.error = () => (b.parts.push('\r\nERROR\r\n'), b);
    b.cme = (n) => {
      if (cmee === 0) return b.error();
      b.parts.push(`\r\n+CME ERROR: ${cmee === 1 ? n : CME[n] || 'unknown error'}\r\n`);
      return b;
    };
    b.fail = (l) => b.info(l).error();
    /** the data prompt; fn(data, b2, cancelled) answers the block (len null: up to Ctrl-Z) */
    b.prompt = (len, fn) => {
      b.parts.push(prompt);
      b.promptSpec = { need: len, fn };
      return b;
    };
    /** runs after the answer has been written */
    b.then = (fn) => (b.thenFns.push(fn), b);
    /** the answer comes later: fn(reply), reply((b2) => …) writes it */
    b.async = (fn) => (b.asyncFn = fn);
    return b;
  }

  const latencyFor = (name) => (typeof latencyMs === 'number' ? latencyMs : (latencyMs[name] ?? latencyMs.default ?? 10));

  function execute(b, name) {
    processing = true;
    const emit = (bb) =>
      m.after(latencyFor(name), () => {
        writeAnswer(name, bb.parts);
        if (bb.promptSpec) dataMode = { need: bb.promptSpec.need, buf: '', fn: bb.promptSpec.fn };
        processing = false;
        markActivity();
        for (const f of bb.thenFns) guarded(f);
        flushUrcs();
        pump();
      });
    if (b.asyncFn) {
      const g = gen;
      b.asyncFn((build) => {
        if (g !== gen) return;
        const b2 = builder();
        guarded(() => build(b2));
        if (b2.asyncFn) return execute(b2, name);
        emit(b2);
      });
    } else emit(b);
  }

  // An answer as the modem writes it, with any injected bytes that wait for this command put in
  // (modem.inject(text, {into})): two writes, so the host sees the answer cut where they go.
  function writeAnswer(name, parts) {
    const text = parts.join('');
    const i = inserts.findIndex((x) => x.into === true || x.into === name || (x.into instanceof RegExp && x.into.test(name)));
    if (i < 0 || !text) return raw(text);
    const x = inserts.splice(i, 1)[0];
    let cut;
    if (typeof x.at === 'number') cut = Math.max(0, Math.min(text.length, x.at));
    else if (x.at === 'middle') cut = text.length >> 1;
    else if (x.at === 'start') cut = 0;
    else cut = parts.length > 1 ? text.length - parts[parts.length - 1].length : 0; // 'before-final'
    raw(text.slice(0, cut));
    noise(x.text);
    raw(text.slice(cut));
  }

  // Bytes on the modem's TX line that the modem's command processor did not write in order (a
  // URC racing an answer, line noise): they reach the host now, even while the modem is hung or
  // holding its URCs back.
  function noise(text) {
    if (!text) return;
    transcript.add('out', text);
    stats.bytesOut += text.length;
    stats.injected = (stats.injected || 0) + text.length;
    serial.rxWrite(text);
  }

  function guarded(fn) {
    try {
      fn();
    } catch (err) {
      // a simulator bug: surface it through the clock (rejects the running runFor)
      errors.push(err);
      clock.setTimeout(() => {
        throw err;
      }, 0);
    }
  }

  // ---- the commands every modem here has ---------------------------------------------------------
  function factoryProfile() {
    echo = true;
    cmee = cmeeDefault;
  }
  const coreBasic = {
    E(arg, b) {
      if (arg !== '' && arg !== '0' && arg !== '1') return b.error();
      echo = arg === '1';
      b.ok();
    },
    '&F'(arg, b) {
      factoryProfile();
      b.ok();
    },
    V: (arg, b) => (arg === '' || arg === '1' ? b.ok() : b.error()), // only verbose framing simulated
    Q: (arg, b) => (arg === '' || arg === '0' ? b.ok() : b.error()),
  };
  const coreHandlers = {
    '+CMEE'(c, b) {
      if (c.form === 'test') return b.info('+CMEE: (0-2)').ok();
      if (c.form === 'read') return b.info(`+CMEE: ${cmee}`).ok();
      if (c.form === 'exec' && cmeeExec) {
        cmee = cmeeDefault;
        return b.ok();
      }
      const n = c.params.length === 1 && /^[0-2]$/.test(c.params[0].value) ? Number(c.params[0].value) : null;
      if (n === null) return badParameter(b);
      cmee = n;
      b.ok();
    },
  };

  function dispatch(text) {
    const cmd = parseLine(text);
    if (cmd === null) return; // no AT prefix: ignored
    const b = builder();
    let name = 'AT';
    if (cmd.kind === 'empty') b.ok();
    else if (cmd.kind === 'bad') b.error();
    else if (cmd.kind === 'basic') {
      name = `AT${cmd.name}`;
      if (basic[cmd.name]) basic[cmd.name](cmd.arg, b);
      else b.error();
    } else {
      name = cmd.name;
      if (handlers[name]) handlers[name](cmd, b);
      else b.error();
    }
    stats.commands++;
    stats.byCommand[name] = (stats.byCommand[name] || 0) + 1;
    execute(b, name);
  }

  // ---- UART in -------------------------------------------------------------------------------
  function endData(dm, data, cancelled) {
    dataMode = null;
    if (swallowCrLfAfterData) skipCrLf = true;
    const b = builder();
    guarded(() => dm.fn(data, b, cancelled));
    execute(b, 'data');
  }

  function takeData() {
    const dm = dataMode;
    if (dm.need != null) {
      const take = Math.min(dm.need - dm.buf.length, inbuf.length);
      dm.buf += inbuf.slice(0, take);
      inbuf = inbuf.slice(take);
      if (dm.buf.length === dm.need) endData(dm, dm.buf, false);
      return;
    }
    const ch = inbuf[0];
    inbuf = inbuf.slice(1);
    if (ch === '\x1a') endData(dm, dm.buf, false);
    else if (ch === '\x1b') endData(dm, '', true);
    else dm.buf += ch;
  }

  function pump() {
    let echoOut = '';
    const flushEcho = () => {
      if (echoOut) raw(echoOut);
      echoOut = '';
    };
    while (!processing && inbuf.length && ready) {
      if (dataMode) {
        takeData();
        continue;
      }
      const ch = inbuf[0];
      inbuf = inbuf.slice(1);
      if (skipCrLf && (ch === '\r' || ch === '\n')) continue;
      skipCrLf = false;
      if (swallow) {
        if (ch === '\r') swallow = false;
        continue;
      }
      if (echo) echoOut += ch;
      if (ch === '\r') {
        flushEcho();
        const l = line;
        line = '';
        guarded(() => dispatch(l));
      } else if (ch === '\n') {
        // LF outside a command line: nothing
      } else if (ch === '\b') line = line.slice(0, -1);
      else line += ch;
    }
    flushEcho();
    flushUrcs();
  }

  function onTx(data) {
    transcript.add('in', data);
    stats.bytesIn += data.length;
    hostAction();
    // off, booting, shutting down, or hung: the bytes are lost
    if (!ready || isHung()) return;
    data = hooks.acceptInput(data);
    if (data == null) return;
    inbuf += data;
    pump();
  }

  // ---- power ---------------------------------------------------------------------------------
  function resetAll() {
    gen++;
    ready = false;
    factoryProfile();
    processing = false;
    ops = 0;
    inbuf = '';
    line = '';
    dataMode = null;
    skipCrLf = false;
    swallow = false;
    pendingUrc = '';
    // a restart ends a hang: the firmware that was stuck starts again, what it held is gone [inferred]
    hungUntil = -1;
    hardHang = false;
    heldOut = '';
    if (hangTimer != null) clock.clearTimeout(hangTimer);
    hangTimer = null;
    hooks.onReset();
  }

  function onState(state, prev, why) {
    hooks.onPowerState(state, prev, why);
    if (state === 'booting') {
      resetAll();
      stats.boots++;
      const remaining = Math.max(0, bootMs - (clock.now() - (why.t0 ?? clock.now())));
      m.after(remaining, () => {
        power.info.state = 'on';
        power.info.history.push({ t: clock.now(), state: 'on' }); // read by host/testing/energy-meter.mjs
        ready = true;
        m.bannerPhase('boot');
        hooks.onReady();
        m.after(lateBannerMs, () => m.bannerPhase('late'));
      });
    } else if (state !== 'on') resetAll(); // 'on' is set directly above
    markActivity();
  }

  const core = {
    m,
    transcript,
    stats,
    errors,
    serial,
    get ready() {
      return ready;
    },
    /**
     * Wires the UART and the power pins.
     * @param {object} w
     * @param {object} w.basic the modem's basic commands (added to / overriding E, &F, V, Q)
     * @param {object} w.handlers the modem's extended commands (added to +CMEE)
     * @param {() => void} w.onReady UART ready, after the 'boot' banner (start the SIM etc.)
     * @param {() => void} w.onReset every power transition (per-boot state back to defaults)
     * @param {(state, prev, why) => void} [w.onPowerState] before the core handles a transition
     * @param {(data: string) => string|null} [w.acceptInput] bytes that reach the command line
     *   (null: lost), called only while ready
     * @param {(text: string) => string|null} [w.output] bytes the modem writes, before the wire
     *   (null: held back; sleep.mjs)
     * @param {() => boolean} [w.canUrc] whether a URC can be written now
     * @param {() => boolean} [w.bannerOn] whether banner lines are printed
     */
    start(w) {
      hooks = { ...hooks, ...w };
      basic = { ...coreBasic, ...w.basic };
      handlers = { ...coreHandlers, ...w.handlers };
      serial.onTx(onTx);
      power = createPower({ clock, device, board, timing: powerTiming, onState, keyHonoured: () => !(hardHang && isHung()) });
      power.onHostPin(() => hostAction());
      return power;
    },
    /** AT&F (and ATZ on the SIM800): echo on, CMEE back to its default */
    factoryProfile,
    /** drops the command being answered and any data prompt (the modem is going down) */
    abort() {
      dataMode = null;
      processing = false;
    },
    /** the next command line is read without echo and gets no answer (autobaud detection) */
    swallowLine() {
      swallow = true;
    },
    /** power, ready, echo, cmee, the modem's fields, busy */
    status: (fields) => ({ power: power.info.state, ready, echo, cmee, ...fields, busy: !idleNow() }),
    /** the public modem object: the common members, then the modem's (getters kept) */
    expose(own) {
      const base = {
        transcript,
        stats,
        errors,
        flash,
        get power() {
          return power.info;
        },
        /**
         * The modem stops answering for ms (Infinity: until a reset or power cycle): input is lost,
         * output is held back and written when it recovers. A reset (RESET pin, PWRKEY restart,
         * CRESET), a power cut or reboot() ends the hang at once and the held output is lost
         * [inferred: a stuck modem firmware is what a reset clears; nothing documents what a
         * SIMCom module does when it stops answering, so the simplest model is used].
         * hard: the modem's firmware is stuck so deep that PWRKEY's power-off, which that firmware
         * carries out (the A7670 takes ~2 s to shut down after the key, deregistering and saving
         * data: docs/modem-facts.md §A.2), does not happen; the RESET line ("emergencies", same
         * section) and a supply cut still work [inferred].
         */
        hang(ms, { hard = false } = {}) {
          hungUntil = clock.now() + ms;
          hardHang = hard;
          if (hangTimer != null) clock.clearTimeout(hangTimer);
          hangTimer = null;
          if (!Number.isFinite(ms)) return;
          hangTimer = clock.setTimeout(() => {
            hangTimer = null;
            const t = heldOut;
            heldOut = '';
            raw(t);
          }, ms);
        },
        /** bytes the modem holds (soak checks for growth): input waiting, URCs held, output held by a hang */
        get buffers() {
          return { input: inbuf.length + line.length, urcs: pendingUrc.length, held: heldOut.length, injections: inserts.length };
        },
        /** true while the modem is hung */
        get hung() {
          return isHung();
        },
        /** writes a URC as the modem would (e.g. for tests of URC handling) */
        urc: (l) => m.urc(l),
        /**
         * Bytes the host did not ask for on the modem's TX line: garbage without line ends, a
         * whole line (pass its CR LF), or a known URC out of turn (e.g. "\r\n+CSQ: 99,99\r\n").
         *   inject(text)                      now, whatever the modem is doing (even between the
         *                                     bytes of an answer already on the wire: they are
         *                                     written whole, so "now" lands between two writes)
         *   inject(text, {into, at})          inside the next answer to a command: into = true
         *                                     (any), '+CSQ' / 'AT+CSQ' (its name as dispatched:
         *                                     '+CMQTTPUB', 'ATE', 'data' for a prompt's block) or a
         *                                     RegExp; at = 'before-final' (default: after the
         *                                     information lines, before OK/ERROR), 'start',
         *                                     'middle' (cuts a line in two) or a byte offset
         * The A76xx prints URCs inside answers (PB DONE between AT+CMQTTCONNECT and its OK,
         * LG-AZ-LOG, modem-facts §A.1); line noise on a UART can land anywhere [inferred].
         */
        inject(text, { into, at = 'before-final' } = {}) {
          if (into === undefined || into === null || into === false) return noise(text);
          const name = typeof into === 'string' ? into.toUpperCase().replace(/^AT(?=\+)/, '') : into;
          inserts.push({ text, into: name, at });
        },
        /** injections still waiting for their answer */
        get pendingInjections() {
          return inserts.length;
        },
        /**
         * The modem restarts by itself (a crash or its own watchdog) [inferred: modelled as what
         * AT+CRESET does, minus the OK]: the per-boot state is lost (echo back on, CMEE default,
         * network registration, sockets, PDP, MQTT clients), flash kept, and it boots again as from
         * a power-on, printing its banner. false when the modem is not on.
         */
        reboot() {
          const st = power.info.state;
          if (st !== 'on' && st !== 'booting') return false;
          stats.spontaneousReboots = (stats.spontaneousReboots || 0) + 1;
          m.reboot('spontaneous');
          return true;
        },
        /**
         * The supply is gone (battery pulled, brown-out): instant off whatever the pins say, as
         * POWER_ON low is. restoreSupply() brings the supply back; the modem then stays off until
         * the host powers it on with PWRKEY (as after any power-up: A7670-HW §3.2, SIM800L-HW §3.2).
         */
        cutSupply: () => power.setSupply(false),
        restoreSupply: () => power.setSupply(true),
        dispose: () => power.dispose(),
      };
      return Object.defineProperties(base, Object.getOwnPropertyDescriptors(own));
    },
  };
  return core;
}
