// An energy meter for a virtual installation (host/testing/rig.mjs): records, in virtual time, how
// long each part spends in each state, from what is visible outside the firmware only:
//   - the ESP32: device.state ('running' | 'sleeping' | 'off') and device.resets (each with its time)
//   - the modem's power: modem.power.history (host/sim/common/power.mjs: every transition with its
//     time: off | booting | on | shutdown | reset), and modem.lowPower ('awake' | 'sleep' | 'psm':
//     the modem asleep while powered, host/sim/common/sleep.mjs)
//   - the modem's activity while on, from the device log (device.onLog, each line at its virtual time)
//     and the modem transcript (AT+CSQ = a reading starts): registering until "net: registered",
//     connecting until "mqtt: connected", publishing from a reading's AT+CSQ to "publish: ok", idle
//     otherwise.
// Log lines used (exact prefixes): "boot:", "wake:", "power: modem on", "net: registered",
// "mqtt: connected", "publish: ok", "upload: start", "upload: done", "upload: failed", "sleep:".
//
// const meter = attachEnergyMeter(rig); rig.start(); await meter.until(pred, ms);
// meter.segments (closed intervals), meter.timeIn() ({ 'awake|data': s, ... } in the model's state
// names, buildlib/energy.mjs), meter.cycles() (phases per wake), meter.detach().

const MARKS = [
  ['boot', /^boot: /],
  ['wake', /^wake: /],
  ['modemOn', /^power: modem on/],
  ['registered', /^net: registered/],
  ['connected', /^mqtt: connected/],
  ['published', /^publish: ok/],
  ['uploadStart', /^upload: start/],
  ['uploadDone', /^upload: (done|failed)/],
  ['sleep', /^sleep: /],
];

/** The model's MCU and modem state (buildlib/energy.mjs partCurrent) for a recorded segment. */
export function modelState(seg) {
  const mcu = seg.mcu === 'running' ? 'awake' : 'sleep';
  let modem;
  switch (seg.power) {
    case 'off':
      modem = 'off';
      break;
    case 'booting':
    case 'reset':
      modem = 'booting';
      break;
    case 'shutdown':
      modem = 'idle';
      break;
    default:
      if (seg.lowPower) modem = seg.lowPower;
      else if (seg.activity === 'registering') modem = 'registering';
      else if (seg.activity === 'connecting' || seg.activity === 'publishing') modem = 'data';
      else modem = 'idle';
  }
  return { mcu, modem };
}

export function attachEnergyMeter(rig) {
  const { clock, device, modem } = rig;
  const segments = []; // { from, to, mcu, power, activity, lowPower }
  const marks = []; // { t, name, line }
  const cur = { mcu: device.state, power: modem.power.state, activity: 'idle', lowPower: null };
  let since = clock.now();
  let seenResets = device.resets.length;
  let seenPower = modem.power.history.length;
  let seenTx = modem.transcript.entries.length;
  let pending = []; // log lines { t, line } not yet applied
  let connected = false;

  function close(t) {
    if (t > since) segments.push({ from: since, to: t, ...cur });
    since = Math.max(since, t);
  }
  function setState(t, patch) {
    const next = { ...cur, ...patch };
    if (next.mcu === cur.mcu && next.power === cur.power && next.activity === cur.activity && next.lowPower === cur.lowPower) return;
    close(t);
    Object.assign(cur, next);
  }

  function applyLog(t, line) {
    for (const [name, re] of MARKS) if (re.test(line)) marks.push({ t, name, line });
    if (cur.mcu !== 'running') setState(t, { mcu: 'running' }); // a line means the firmware runs (a wake)
    if (/^net: registered/.test(line)) setState(t, { activity: connected ? 'idle' : 'connecting' });
    else if (/^mqtt: connected/.test(line)) {
      connected = true;
      setState(t, { activity: 'idle' });
    } else if (/^publish: ok/.test(line)) setState(t, { activity: 'idle' });
    else if (/^link: (down|attempting)/.test(line)) connected = false;
  }

  function sample() {
    const events = [];
    for (; seenResets < device.resets.length; seenResets++) {
      const r = device.resets[seenResets];
      const mcu = r.reason === 'deepSleep' ? 'sleeping' : /^(powerOff|powerCut)$/.test(r.reason) ? 'off' : 'running';
      events.push({ t: r.timeMs, k: 0, fn: (t) => setState(t, { mcu }) });
    }
    const hist = modem.power.history;
    for (; seenPower < hist.length; seenPower++) {
      const h = hist[seenPower];
      events.push({
        t: h.t,
        k: 1,
        fn: (t) => {
          const patch = { power: h.state };
          if (h.state === 'on' || h.state === 'booting') patch.activity = 'registering';
          if (h.state === 'off' || h.state === 'booting') connected = false;
          setState(t, patch);
        },
      });
    }
    const tx = modem.transcript.entries;
    for (; seenTx < tx.length; seenTx++) {
      const e = tx[seenTx];
      if (e.dir === 'in' && e.data.startsWith('AT+CSQ')) {
        events.push({ t: e.t, k: 2, fn: (t) => connected && cur.activity === 'idle' && setState(t, { activity: 'publishing' }) });
      }
    }
    for (const p of pending) events.push({ t: p.t, k: 3, fn: (t) => applyLog(t, p.line) });
    pending = [];
    events.sort((a, b) => a.t - b.t || a.k - b.k);
    for (const e of events) e.fn(Math.max(e.t, since));
    const now = clock.now();
    // polled: a wake without a log line yet, and a simulator's low-power state
    if (device.state !== cur.mcu && !(device.state === 'running' && cur.mcu === 'running')) setState(now, { mcu: device.state });
    // the simulators say 'awake' | 'sleep' (DTR sleep) | 'psm' (host/sim/common/sleep.mjs)
    const lp = { sleep: 'dtr-sleep', psm: 'psm' }[modem.lowPower] || null;
    if (lp !== cur.lowPower) setState(now, { lowPower: lp });
  }

  const unLog = device.onLog((line) => {
    // the line's text after the "[uptime] " prefix log.ts adds
    pending.push({ t: clock.now(), line: String(line).replace(/^\[[\d.]+\] /, '') });
  });

  return {
    segments,
    marks,
    sample,
    /** rig.until with a sample at every step */
    async until(pred, timeoutMs, stepMs) {
      const ok = await rig.until(() => (sample(), pred()), timeoutMs, stepMs);
      sample();
      return ok;
    },
    /** closes the open segment at now (call before reading the totals) */
    flush() {
      sample();
      close(clock.now());
    },
    /** seconds per model state 'mcu|modem' over [from, to) (default: everything recorded) */
    timeIn(from = -Infinity, to = Infinity) {
      const out = {};
      for (const s of segments) {
        const a = Math.max(s.from, from);
        const b = Math.min(s.to, to);
        if (b <= a) continue;
        const m = modelState(s);
        const k = `${m.mcu}|${m.modem}`;
        out[k] = (out[k] || 0) + (b - a) / 1000;
      }
      return out;
    },
    /** segments in the model's terms [{ mcu, modem, s }] over [from, to) */
    modelSegments(from = -Infinity, to = Infinity) {
      return Object.entries(this.timeIn(from, to)).map(([k, s]) => {
        const [mcu, modem] = k.split('|');
        return { mcu, modem, s };
      });
    },
    /** the time of the first mark `name` at or after t (null if none) */
    markAfter(name, t = -Infinity) {
      const m = marks.find((x) => x.name === name && x.t >= t);
      return m ? m.t : null;
    },
    /** the first modem power transition to `state` at or after t (null if none) */
    powerAfter(state, t = -Infinity) {
      const h = modem.power.history.find((x) => x.state === state && x.t >= t);
      return h ? h.t : null;
    },
    /**
     * Phases of each boot or wake (ms of virtual time; null where the cycle has no such phase):
     * sensors (wake → upload start or sleep: the reading stored), powerUp ("power: modem on" → the
     * modem's UART ready), registration (→ "net: registered"), connect (→ "mqtt: connected"),
     * publish (→ "publish: ok": always-on firmware takes its first reading there too), powerDown
     * ("upload: done" → modem power off), and awake (the whole boot → sleep or → first publish).
     */
    cycles() {
      // a wake may print both "boot:" and "wake:": one cycle per start, the "wake:" line preferred
      const all = marks.filter((m) => m.name === 'boot' || m.name === 'wake');
      const starts = all.filter(
        (m) => !all.some((o) => o !== m && Math.abs(o.t - m.t) < 100 && (o.name === 'wake' ? m.name === 'boot' : o.t < m.t && o.name === m.name)),
      );
      return starts.map((s, i) => {
        const end = i + 1 < starts.length ? starts[i + 1].t : Infinity;
        const at = (name) => {
          const t = this.markAfter(name, s.t);
          return t !== null && t < end ? t : null;
        };
        const d = (a, b) => (a !== null && b !== null && b >= a ? b - a : null);
        const modemOn = at('modemOn');
        const ready = modemOn !== null ? this.powerAfter('on', modemOn) : null;
        const registered = at('registered');
        const connected = at('connected');
        const published = at('published');
        const uploadStart = at('uploadStart');
        const uploadDone = at('uploadDone');
        const sleep = at('sleep');
        const off = uploadDone !== null ? this.powerAfter('off', uploadDone) : null;
        return {
          start: s.t,
          kind: s.name,
          line: s.line,
          sensors: d(s.t, uploadStart ?? (sleep !== null && uploadStart === null ? sleep : null)),
          powerUp: d(modemOn, ready !== null && ready < end ? ready : null),
          registration: d(ready, registered),
          connect: d(registered, connected),
          publish: d(connected, published),
          powerDown: d(uploadDone, off !== null && off < end ? off : null),
          toStored: sleep !== null && uploadStart === null ? d(s.t, sleep) : d(s.t, uploadStart),
          toUploaded: d(s.t, uploadDone ?? published),
          awake: d(s.t, sleep ?? published),
        };
      });
    },
    detach() {
      unLog();
    },
  };
}
