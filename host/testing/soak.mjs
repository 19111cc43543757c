// The soak: the real firmware bundle on a virtual installation (host/testing/rig.mjs) for many simulated
// hours with a random fault about every 10 simulated minutes (host/testing/faults.mjs), then the figures
// the field-reliability bars are about. Used by bench/soak.mjs (prints) and test/soak.test.mjs
// (asserts).
//
// What is measured, and how (outside the firmware wherever possible):
//   readings taken     every forced measurement the firmware starts on the simulated BME280 (one
//                      per reading), timestamped in virtual time;
//   readings arrived   every PUBLISH on the telemetry topic from the device's client id that the
//                      broker took (broker.received, virtual time `at`), not the subscriber's copy
//                      (a broker restart cuts the subscriber as well);
//   identity           the reading's "n" (a per-device counter kept in flash) when it carries one,
//                      else (ts, up); its take time from ts (the network's clock, which is the
//                      rig's clock plus a known epoch), else from up and the boot it came from;
//                      each reading is matched to the last take before that time;
//   cutoff             faults run for `hours`; readings taken before that moment must all have
//                      arrived by the end of the drain period that follows (faults stopped);
//   delivered          distinct readings taken before the cutoff that arrived at least once;
//   missing            takes no reading that arrived matches (each put against the fault whose
//                      window [start - interval, clear + recovery] holds its take time, else the
//                      last fault the device had not recovered from by then);
//   lost in a cut      a missing reading taken less than 2 s before a power cut (the cut fell on
//                      its storing, or came before it): no firmware could have kept it, so it is
//                      reported apart and not counted against the delivery bar;
//   out of order       a first arrival whose n (else ts) is below one that arrived before it;
//   duplicates         arrivals beyond the first of the same reading; "explained" when the
//                      device could not have known the broker had it: its earlier copy was
//                      never PUBACKed by the broker, arrived while acknowledgements were being
//                      lost (pub-timeout / puback-withheld), or arrived in the 2 s before a
//                      fault cut the path (the acknowledgement was on its way);
//   recovery           per fault, the first arrival (any reading) at or after the clear time,
//                      minus the clear time; recovered when that is <= recoveryMs (120 s);
//   peak queue         the firmware's own count where it logs one ("N waiting", "kept N
//                      reading(s)", "queue: N"), and the backlog seen from outside (taken minus
//                      arrived) at every take and arrival;
//   growth             quiet samples (no fault active, nothing waiting) every 10 simulated
//                      minutes of JsVars, firmware timers, live flash bytes, the modem's own
//                      buffers: the last quarter of the run may not exceed the first quarter by
//                      more than a small slack.

import { createRig } from './rig.mjs';
import { createFaultScheduler } from './faults.mjs';
import { escapeBytes } from '../sim/common/transcript.mjs';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

/** Readings taken, seen from outside the firmware: the virtual time of every forced measurement
 *  started on the simulated BME280 (ctrl_meas 0xF4 with a forced mode), one per reading. */
export function recordTakes(rig) {
  const takes = [];
  const bmeWrite = rig.bme.write.bind(rig.bme);
  rig.bme.write = (bytes, opts) => {
    if (bytes.length >= 2 && bytes[0] === 0xf4 && (bytes[1] & 3) !== 0 && (bytes[1] & 3) !== 3) takes.push(rig.clock.now());
    return bmeWrite(bytes, opts);
  };
  return takes;
}

export const BARS = {
  deliveredPct: 100,
  duplicatesPct: 0.1, // of readings taken, duplicates not explained by a lost acknowledgement
  recoveryMs: 2 * MIN,
  growthSlack: { jsVars: 60, timers: 3, flashBytes: 8192, modemBytes: 256 },
};

const fmtT = (ms) => {
  if (ms == null) return '-';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const fmtS = (ms) => (ms == null ? '-' : `${(ms / 1000).toFixed(1)} s`);

/**
 * @param o.board board id (t-a7670x: HiveMQ-like TLS broker; t-call-sim800l: plain MQTT)
 * @param o.hours simulated hours with faults
 * @param o.seed fault PRNG seed
 * @param o.intervalS reading interval (config intervalSeconds)
 * @param o.meanIntervalMs mean gap between faults
 * @param o.kinds fault kinds (default: all that apply, see faults.mjs defaultKinds)
 * @param o.drainMs after the last fault: how long to wait at most for the backlog to arrive
 * @param o.stepMs virtual time per rig.until step (large = fast)
 * @param o.log (line) progress lines (fault start/clear)
 * @param o.config / o.rigOptions passed to createRig
 */
export async function runSoak({
  board = 't-a7670x',
  hours = 72,
  seed = 1,
  intervalS = 60,
  meanIntervalMs = 10 * MIN,
  kinds,
  durations,
  drainMs = 30 * MIN,
  recoveryMs = BARS.recoveryMs,
  stepMs = MIN,
  sampleMs = 10 * MIN,
  log = () => {},
  config = {},
  rigOptions = {},
} = {}) {
  const realStart = Date.now();
  // the firmware's own randomness (retry jitter) from the same seed: the same seed, the same run
  const deviceSeed = typeof seed === 'number' ? seed : [...String(seed)].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);
  const rig = await createRig({ board, config: { intervalSeconds: intervalS, ...config }, deviceOptions: { seed: deviceSeed }, ...rigOptions });
  const { clock } = rig;
  const epoch = rig.networkNow() - clock.now();
  const telemetry = rig.config.topics.telemetry;
  const clientId = rig.config.broker.clientId;

  const takes = recordTakes(rig);
  // the firmware's log with virtual times
  const devLog = [];
  rig.device.onLog((line) => devLog.push({ t: clock.now(), line }));

  // readings arrived, parsed as they come
  const arrivals = [];
  let seen = 0;
  function collect() {
    const rec = rig.broker.received;
    for (; seen < rec.length; seen++) {
      const m = rec[seen];
      if (m.topic !== telemetry || m.clientId !== clientId) continue;
      let r = null;
      try {
        r = JSON.parse(m.payload.toString('utf8'));
      } catch {
        r = null;
      }
      const hasN = r && typeof r.n === 'number';
      const key = !r ? `?${m.payload.toString('hex')}` : hasN ? `n${r.n}` : `${r.ts ?? ''}|${r.up ?? ''}`;
      // its take time: from ts (the network's clock), else from up and the boot it was taken in
      // (the latest boot that could have produced it: ambiguous for readings kept across boots)
      let vt = r && typeof r.ts === 'string' && !Number.isNaN(Date.parse(r.ts)) ? Date.parse(r.ts) - epoch : null;
      if (vt == null && r && typeof r.up === 'number') {
        const at = m.at ?? clock.now();
        const boots = rig.device.resets.filter((x) => !['powerOff', 'powerCut', 'deepSleep'].includes(x.reason) && x.timeMs + r.up * 1000 <= at + S);
        if (boots.length) vt = boots[boots.length - 1].timeMs + r.up * 1000;
      }
      arrivals.push({
        at: m.at ?? clock.now(),
        key,
        n: hasN ? r.n : null,
        vt,
        up: r ? r.up : null,
        acked: m.acked,
        withheld: !!m.withheld,
        text: m.payload.toString('utf8'),
      });
    }
  }

  const result = { board, seed, hours, intervalS, meanIntervalMs, failures: [], notes: [] };
  let faults = null;
  const samples = [];
  try {
    rig.start();
    const warm = await rig.until(() => (collect(), arrivals.length > 0), 10 * MIN, 5 * S);
    if (!warm) throw new Error(rig.explain('soak: no reading reached the broker within 10 simulated minutes of boot (no faults yet)'));

    faults = createFaultScheduler(rig, {
      seed,
      meanIntervalMs,
      kinds,
      durations,
      onFault: (rec, phase) =>
        log(
          `${fmtT(clock.now())} ${phase === 'start' ? 'fault' : 'clear'} #${rec.id} ${rec.kind}${rec.variant ? ` (${rec.variant})` : ''}${phase === 'clear' && rec.note ? ` — ${rec.note}` : ''}`,
        ),
    });
    const faultsFrom = clock.now();
    faults.start();

    // backlog seen from outside (taken before t, not yet arrived): kept up to date per step
    const sample = () => {
      const g = rig.device.global;
      let jsVars = null;
      try {
        jsVars = g && g.process ? g.process.memory().usage : null;
      } catch {
        jsVars = null;
      }
      let flashBytes = null;
      try {
        flashBytes = rig.device.storage.stats().fileBytes;
      } catch {
        flashBytes = null;
      }
      const b = rig.modem.buffers || {};
      const arrivedDistinct = new Set(arrivals.map((a) => a.key)).size;
      const cuts = faults.records.filter((r) => r.cutAt != null).map((r) => r.cutAt);
      const lost = takes.filter((t) => cuts.some((c) => c >= t && c - t <= 2 * S)).length;
      samples.push({
        t: clock.now(),
        quiet: !faults.active && takes.length - lost - arrivedDistinct <= 0 && rig.device.state === 'running',
        jsVars,
        timers: rig.device.state === 'running' ? rig.device.pendingTimers : null,
        flashBytes,
        modemBytes: (b.input || 0) + (b.urcs || 0) + (b.held || 0),
        backlog: takes.length - arrivedDistinct,
      });
    };
    let nextSample = clock.now() + sampleMs;
    const end = faultsFrom + hours * HOUR;
    while (clock.now() < end) {
      const target = Math.min(end, nextSample);
      await rig.until(() => clock.now() >= target, target - clock.now() + 1, stepMs);
      collect();
      if (clock.now() >= nextSample) {
        sample();
        nextSample += sampleMs;
      }
      if (faults.errors.length) throw faults.errors[0];
    }
    faults.stop();
    const cutoff = clock.now();
    result.cutoff = cutoff;

    // drain: the active fault clears by itself; then readings taken before the cutoff must arrive
    // (readings taken in the 2 s before a power cut may never have been stored: not waited for)
    const takenBefore = () => {
      const cuts = faults.records.filter((r) => r.cutAt != null).map((r) => r.cutAt);
      return takes.filter((t) => t <= cutoff && !cuts.some((c) => c >= t && c - t <= 2 * S)).length;
    };
    const allIn = () => {
      collect();
      return !faults.active && arrivedBefore(cutoff) >= takenBefore();
    };
    // distinct readings taken before the cutoff that have arrived (by take time from ts, or all
    // arrivals when readings carry no ts)
    function arrivedBefore(t) {
      const keys = new Set();
      for (const a of arrivals) if (a.vt == null || a.vt <= t + S) keys.add(a.key);
      return keys.size;
    }
    await rig.until(() => !faults.active, 30 * MIN, stepMs);
    const lastClear = Math.max(cutoff, ...faults.records.map((r) => r.clear ?? 0));
    await rig.until(() => allIn() && clock.now() >= lastClear + recoveryMs + S, Math.max(drainMs, lastClear + recoveryMs + 2 * S - clock.now()), 10 * S);
    collect();
    result.end = clock.now();

    analyseSoak({ result, queueMax: rig.config.queueMax, takes, arrivals, records: faults.records, samples, cutoff, intervalS, recoveryMs, devLog });
    result.deviceErrors = rig.device.errors.slice(0, 5);
    if (rig.device.errors.length) result.failures.push(`${rig.device.errors.length} uncaught exception(s) on the device: ${rig.device.errors[0]}`);
    if (faults.errors.length) result.failures.push(`host errors in fault injection: ${faults.errors.map((e) => e.message).join('; ')}`);
  } finally {
    result.realSeconds = (Date.now() - realStart) / 1000;
    result.devLog = devLog;
    result.transcript = rig.modem.transcript; // for a failure's story (entries with virtual times)
    await rig.close();
  }
  result.ok = result.failures.length === 0;
  return result;
}

/**
 * The figures and the verdict, from what runSoak recorded (exported for tests with made-up data).
 * takes: virtual ms of each reading taken; arrivals: [{ at, key, n, vt, up, acked }] in arrival
 * order; records: the fault scheduler's; samples: growth samples; result: filled in.
 */
export function analyseSoak({ result, queueMax, takes, arrivals, records, samples = [], cutoff, intervalS, recoveryMs = BARS.recoveryMs, devLog = [] }) {
  result.failures ??= [];
  result.notes ??= [];
  result.faults = records;
  result.simHours = (cutoff - (records.length ? records[0].start : 0)) / HOUR;

  // ---- distinct readings, first arrivals, duplicates
  const first = new Map(); // key → first arrival
  const copies = new Map(); // key → count
  for (const a of arrivals) {
    if (!first.has(a.key)) first.set(a.key, a);
    copies.set(a.key, (copies.get(a.key) || 0) + 1);
  }
  const withN = arrivals.length > 0 && arrivals.every((a) => a.n != null);
  result.identity = withN ? 'n' : 'ts/up';
  const takenBefore = takes.filter((t) => t <= cutoff);
  result.taken = takenBefore.length;
  result.takenTotal = takes.length;

  // ---- expected readings and the missing ones, with their take times
  const missing = []; // { id, t }
  const takeOfKey = new Map();
  // Each reading belongs to the last take before its time (vt: from ts, else up and its boot): ts
  // is the device's clock, set from the modem's in whole seconds and printed floored, so it may
  // lag the take by up to ~2 s; it may also be later (the signal query first, a hung modem
  // delaying it), never earlier. So: the latest take not after vt + 2.5 s that no other reading
  // has, within 2 min. Takes left over are the readings that never arrived. This holds with or
  // without n (n is not a take index: a reading lost before it was stored may never get one).
  const placed = [...first.values()].filter((a) => a.vt != null).sort((x, y) => x.vt - y.vt || (x.n ?? 0) - (y.n ?? 0));
  const usedTake = new Set();
  let hi = 0;
  for (const a of placed) {
    while (hi < takes.length && takes[hi] <= a.vt + 2500) hi++;
    let k = hi - 1;
    while (k >= 0 && usedTake.has(k)) k--;
    if (k >= 0 && a.vt - takes[k] <= 2 * MIN) {
      usedTake.add(k);
      takeOfKey.set(a.key, takes[k]);
    }
  }
  const unplaced = first.size - placed.length;
  if (!unplaced || !withN) {
    for (let k = 0; k < takes.length; k++) if (!usedTake.has(k) && takes[k] <= cutoff) missing.push({ id: `taken ${fmtT(takes[k])}`, t: takes[k] });
    if (unplaced) result.notes.push(`${unplaced} readings carry neither ts nor up: their take times are unknown`);
  } else {
    // readings with n but no time at all: the i-th take carries n0 + i (exact only while no
    // reading was lost before it got its n)
    const n0 = Math.min(1, ...arrivals.map((a) => a.n));
    for (let i = 0; i < takes.length; i++) {
      const key = `n${n0 + i}`;
      if (first.has(key)) takeOfKey.set(key, takes[i]);
      else if (takes[i] <= cutoff) missing.push({ id: `n=${n0 + i}`, t: takes[i] });
    }
    result.notes.push(`${unplaced} readings carry neither ts nor up: take times from n alone`);
  }
  if (withN) {
    // n values never seen between the first and the last that arrived: each is a reading that
    // was stored (it got its n) and then lost; a reading lost before it got one leaves no gap
    const ns = [...new Set(arrivals.map((a) => a.n))].sort((x, y) => x - y);
    const gaps = [];
    for (let i = 1; i < ns.length; i++) for (let n = ns[i - 1] + 1; n < ns[i]; n++) gaps.push(n);
    result.nGaps = gaps;
    // name the missing takes by the n they must have had where the neighbours say so
    const byTake = [...takeOfKey.entries()].map(([key, t]) => [t, Number(key.slice(1))]).sort((x, y) => x[0] - y[0]);
    for (const m of missing) {
      const before = byTake.filter(([t]) => t < m.t).at(-1);
      const after = byTake.find(([t]) => t > m.t);
      if (before && after && after[1] - before[1] === 2) m.id = `n=${before[1] + 1}`;
    }
  }
  // A reading taken in the last moments before the power went (its storing, a flash write, was
  // what the cut interrupted, or had not happened yet) could not have been kept by any firmware:
  // counted apart, not against the delivery bar.
  const cuts = records.filter((r) => r.cutAt != null).map((r) => r.cutAt);
  for (const m of missing) m.lostInCut = cuts.some((c) => c >= m.t && c - m.t <= 2 * S);
  result.lostInCut = missing.filter((m) => m.lostInCut).length;
  result.missing = missing.length - result.lostInCut;
  result.delivered = result.taken - missing.length;
  result.deliveredPct = result.taken ? (100 * result.delivered) / (result.taken - result.lostInCut) : 0;

  // ---- order of first arrivals
  const firsts = [...first.values()].sort((x, y) => x.at - y.at || arrivals.indexOf(x) - arrivals.indexOf(y));
  let outOfOrder = 0;
  let maxKey = -Infinity;
  const outOfOrderList = [];
  for (const a of firsts) {
    const k = withN ? a.n : a.vt;
    if (k == null) continue;
    if (k < maxKey) {
      outOfOrder++;
      outOfOrderList.push(a);
    } else maxKey = k;
  }
  result.outOfOrder = outOfOrder;

  // ---- duplicates and whether a lost acknowledgement explains them
  const ackLostWindows = records.filter((r) => r.acksLost).map((r) => [r.start, r.clear ?? Infinity]);
  const cutStarts = records.filter((r) => !r.acksLost).map((r) => r.start);
  // what a fault's window covers, for attribution
  let dupes = 0;
  let unexplained = 0;
  const dupList = [];
  const byKeyArrivals = new Map();
  for (const a of arrivals) {
    if (!byKeyArrivals.has(a.key)) byKeyArrivals.set(a.key, []);
    byKeyArrivals.get(a.key).push(a);
  }
  for (const list of byKeyArrivals.values()) {
    for (let i = 1; i < list.length; i++) {
      dupes++;
      const prev = list[i - 1];
      const why =
        prev.acked === false
          ? 'earlier copy never PUBACKed'
          : ackLostWindows.some(([s, c]) => prev.at >= s && prev.at <= c)
            ? 'earlier copy arrived while acknowledgements were lost'
            : cutStarts.some((s) => prev.at <= s && s - prev.at <= 2 * S)
              ? 'earlier copy arrived just before a fault cut the path'
              : null;
      if (!why) unexplained++;
      dupList.push({ key: list[i].key, at: list[i].at, firstAt: list[0].at, why });
    }
  }
  result.arrivals = arrivals.length;
  result.duplicates = dupes;
  result.duplicatesUnexplained = unexplained;
  result.duplicatesPct = result.taken ? (100 * dupes) / result.taken : 0;
  result.duplicatesUnexplainedPct = result.taken ? (100 * unexplained) / result.taken : 0;

  // ---- recovery per fault, and what each fault broke
  const arrivalTimes = arrivals.map((a) => a.at).sort((x, y) => x - y);
  const firstAtOrAfter = (t) => {
    let lo = 0;
    let hi = arrivalTimes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (arrivalTimes[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo < arrivalTimes.length ? arrivalTimes[lo] : null;
  };
  const intervalMs = intervalS * S;
  for (const r of records) {
    const next = r.clear == null ? null : firstAtOrAfter(r.clear);
    r.recoveryMs = next == null ? null : next - r.clear;
    r.recovered = r.recoveryMs != null && r.recoveryMs <= recoveryMs;
    r.missing = [];
    r.duplicates = 0;
  }
  // the fault whose window holds t; else the last fault before t that the device had not yet
  // recovered from at t (its first arrival after clearing came later, or never)
  const faultAt = (t) =>
    records.find((r) => t >= r.start - intervalMs && t <= (r.clear ?? Infinity) + recoveryMs) ||
    records.filter((r) => r.start <= t && (r.recoveryMs == null || r.clear + r.recoveryMs > t)).at(-1) ||
    null;
  for (const m of missing) {
    const f = faultAt(m.t);
    if (f) (m.lostInCut ? (f.lostInCut ??= []) : f.missing).push(m);
    m.fault = f ? f.id : null;
  }
  result.missingNoFault = missing.filter((m) => !m.lostInCut && m.fault == null);
  for (const d of dupList) {
    const f = faultAt(d.firstAt);
    if (f) f.duplicates++;
  }
  for (const a of outOfOrderList) {
    const f = faultAt(a.vt ?? a.at);
    a.fault = f ? f.id : null;
  }
  result.outOfOrderList = outOfOrderList.slice(0, 20).map((a) => ({ key: a.key, at: a.at, fault: a.fault }));
  result.missingList = missing;
  result.arrivalList = arrivals;
  result.takeList = takes;
  result.duplicateList = dupList;

  const kinds = {};
  for (const r of records) {
    const k = (kinds[r.kind] ??= { count: 0, worstRecoveryMs: 0, notRecovered: 0, missing: 0, duplicates: 0, noEffect: 0 });
    k.count++;
    if (r.recoveryMs == null || !r.recovered) k.notRecovered++;
    k.worstRecoveryMs = r.recoveryMs == null ? Infinity : Math.max(k.worstRecoveryMs, r.recoveryMs);
    k.missing += r.missing.length;
    k.duplicates += r.duplicates;
    if (r.note && /nothing/.test(r.note)) k.noEffect++;
  }
  result.byKind = kinds;
  result.worstRecoveryMs = records.reduce((w, r) => Math.max(w, r.recoveryMs ?? Infinity), 0);
  if (records.length > 1) result.meanFaultIntervalMs = (records[records.length - 1].start - records[0].start) / (records.length - 1);

  // ---- queue depth: the firmware's own figure, and the backlog from outside
  let peakLogged = null;
  for (const { line } of devLog) {
    const m = /\b(\d+) waiting\b/.exec(line) || /\bkept (\d+) reading/.exec(line) || /\bqueue: (\d+)\b/.exec(line);
    if (m) peakLogged = Math.max(peakLogged ?? 0, Number(m[1]));
  }
  result.peakQueueLogged = peakLogged;
  const events = [];
  for (const t of takes) {
    events.push([t, 1]);
    const cut = cuts.find((c) => c >= t && c - t <= 2 * S);
    if (cut != null) events.push([cut, -1]); // lost with the power cut: no longer waiting anywhere
  }
  for (const a of first.values()) {
    const tt = takeOfKey.get(a.key);
    if (tt != null) events.push([Math.max(a.at, tt), -1]);
  }
  events.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
  let backlog = 0;
  let peak = 0;
  let peakAt = null;
  for (const [t, d] of events) {
    backlog += d;
    if (backlog > peak) {
      peak = backlog;
      peakAt = t;
    }
  }
  result.peakBacklog = peak;
  result.peakBacklogAt = peakAt;
  result.queueMax = queueMax;

  // ---- growth between the first and the last quarter of quiet samples
  const quiet = samples.filter((s) => s.quiet);
  const q = Math.max(1, Math.floor(quiet.length / 4));
  const growth = {};
  for (const f of ['jsVars', 'timers', 'flashBytes', 'modemBytes']) {
    const vals = (arr) => arr.map((s) => s[f]).filter((v) => v != null);
    const a = vals(quiet.slice(0, q));
    const b = vals(quiet.slice(-q));
    if (!a.length || !b.length) continue;
    growth[f] = { first: Math.max(...a), last: Math.max(...b), max: Math.max(...vals(samples)) };
  }
  result.growth = growth;
  result.samples = samples.length;
  result.quietSamples = quiet.length;

  // ---- verdict
  const F = result.failures;
  if (result.missing)
    F.push(
      `${result.missing} of ${result.taken - result.lostInCut} readings never arrived (${result.deliveredPct.toFixed(2)} % delivered)${result.missingNoFault.length ? `, ${result.missingNoFault.length} of them with no fault near or unrecovered` : ''}`,
    );
  if (result.outOfOrder) F.push(`${result.outOfOrder} readings arrived out of order`);
  if (result.duplicatesUnexplainedPct > BARS.duplicatesPct)
    F.push(
      `${result.duplicatesUnexplained} duplicates not explained by a lost acknowledgement (${result.duplicatesUnexplainedPct.toFixed(3)} % > ${BARS.duplicatesPct} %)`,
    );
  const slow = records.filter((r) => !r.recovered);
  if (slow.length)
    F.push(
      `${slow.length} of ${records.length} faults not recovered within ${recoveryMs / 1000} s of clearing (${[...new Set(slow.map((r) => r.kind))].join(', ')})`,
    );
  const qmax = queueMax;
  if (peakLogged != null && peakLogged > qmax) F.push(`the firmware's queue reached ${peakLogged} (> queueMax ${qmax})`);
  for (const [f, g] of Object.entries(growth)) {
    if (g.last > g.first + BARS.growthSlack[f]) F.push(`${f} grew from ${g.first} (first quarter) to ${g.last} (last quarter) on quiet samples`);
  }
  if (result.quietSamples < 4) result.notes.push(`only ${result.quietSamples} quiet samples: growth not judged`);
  result.ok = F.length === 0;
  return result;
}

/** The report as text: summary, per kind, and the faults that broke something. */
export function formatSoak(r, { faultsShown = 25, logLines = 12 } = {}) {
  const L = [];
  const row = (k, v) => L.push(`${k.padEnd(46)} ${v}`);
  L.push(`== soak: ${r.board}, seed ${r.seed}, ${r.hours} h of faults, a reading every ${r.intervalS} s ==`);
  row(
    'simulated hours with faults',
    `${r.simHours != null ? r.simHours.toFixed(2) : '-'} (then ${r.end != null ? ((r.end - r.cutoff) / MIN).toFixed(1) : '-'} min to drain)`,
  );
  row('faults', `${r.faults ? r.faults.length : 0}${r.meanFaultIntervalMs ? ` (one every ${(r.meanFaultIntervalMs / MIN).toFixed(1)} min on average)` : ''}`);
  row('readings taken (before the cutoff)', `${r.taken ?? '-'} (${r.takenTotal ?? '-'} in all)`);
  row('delivered at least once', r.taken != null ? `${r.delivered} (${r.deliveredPct.toFixed(2)} %)` : '-');
  row(
    'missing',
    `${r.missing ?? '-'}${
      r.missingNoFault && r.missingNoFault.length
        ? ` (${r.missingNoFault.length} with no fault near or unrecovered: taken at ${r.missingNoFault
            .slice(0, 5)
            .map((m) => fmtT(m.t))
            .join(', ')})`
        : ''
    }`,
  );
  row('lost in a power cut before they were stored', `${r.lostInCut ?? '-'} (taken < 2 s before the cut; not counted as missing)`);
  row('out of order', `${r.outOfOrder ?? '-'}`);
  row('arrivals at the broker', `${r.arrivals ?? '-'}`);
  row(
    'duplicates',
    r.duplicates != null
      ? `${r.duplicates} (${r.duplicatesPct.toFixed(3)} %), not explained by a lost ack: ${r.duplicatesUnexplained} (${r.duplicatesUnexplainedPct.toFixed(3)} %)`
      : '-',
  );
  row('worst recovery after a fault cleared', r.worstRecoveryMs === Infinity ? 'never (no reading after some fault)' : fmtS(r.worstRecoveryMs));
  row(
    'peak queue (firmware log / outside backlog)',
    `${r.peakQueueLogged ?? 'n/a'} / ${r.peakBacklog ?? '-'}${r.peakBacklogAt != null ? ` at ${fmtT(r.peakBacklogAt)}` : ''} (queueMax ${r.queueMax})`,
  );
  if (r.growth) {
    row(
      'growth on quiet samples (first → last quarter)',
      Object.entries(r.growth)
        .map(([k, g]) => `${k} ${g.first}→${g.last} (max ${g.max})`)
        .join(', ') || '-',
    );
  }
  row('reading identity', `${r.identity ?? '-'}${r.nGaps ? ` (n values never seen: ${r.nGaps.length})` : ''}`);
  row('real seconds', r.realSeconds != null ? r.realSeconds.toFixed(1) : '-');
  if (r.byKind) {
    L.push('');
    L.push(
      `${'kind'.padEnd(18)} ${'count'.padStart(5)} ${'worst recovery'.padStart(15)} ${'> 120 s'.padStart(8)} ${'missing'.padStart(8)} ${'dupes'.padStart(6)} ${'no effect'.padStart(9)}`,
    );
    for (const [k, v] of Object.entries(r.byKind).sort()) {
      L.push(
        `${k.padEnd(18)} ${String(v.count).padStart(5)} ${(v.worstRecoveryMs === Infinity ? 'never' : fmtS(v.worstRecoveryMs)).padStart(15)} ${String(v.notRecovered).padStart(8)} ${String(v.missing).padStart(8)} ${String(v.duplicates).padStart(6)} ${String(v.noEffect).padStart(9)}`,
      );
    }
  }
  const bad = (r.faults || []).filter((f) => !f.recovered || f.missing.length);
  if (bad.length) {
    L.push('');
    L.push(`faults that broke something (${bad.length}; first ${Math.min(bad.length, faultsShown)}):`);
    L.push(
      `${'#'.padStart(4)} ${'kind'.padEnd(17)} ${'variant'.padEnd(15)} ${'start'.padStart(8)} ${'clear'.padStart(8)} ${'recovery'.padStart(9)} ${'missing'.padStart(7)}  note`,
    );
    for (const f of bad.slice(0, faultsShown)) {
      L.push(
        `${String(f.id).padStart(4)} ${f.kind.padEnd(17)} ${String(f.variant ?? '').padEnd(15)} ${fmtT(f.start).padStart(8)} ${fmtT(f.clear).padStart(8)} ${(f.recoveryMs == null ? 'never' : fmtS(f.recoveryMs)).padStart(9)} ${String(f.missing.length).padStart(7)}  ${f.note ?? ''}${f.params ? ` ${JSON.stringify(f.params)}` : ''}`,
      );
    }
    const f0 = bad[0];
    if (r.devLog && logLines) {
      const from = f0.start - 5 * S;
      const to = (f0.clear ?? f0.start) + 3 * MIN;
      const lines = r.devLog.filter((l) => l.t >= from && l.t <= to);
      L.push('');
      L.push(`device log around fault #${f0.id} (${f0.kind}, ${fmtT(f0.start)}..${fmtT(f0.clear)}), first ${logLines} lines:`);
      for (const l of lines.slice(0, logLines)) L.push(`  ${fmtT(l.t)} ${l.line}`);
      if (!lines.length) L.push('  (nothing logged)');
    }
    if (r.transcript && logLines) {
      const es = r.transcript.entries.filter((e) => e.t >= f0.start - 2 * S && e.t <= (f0.clear ?? f0.start) + 3 * MIN);
      L.push(`modem UART around its start (> to the modem, < from it), first ${logLines} chunks:`);
      for (const e of es.slice(0, logLines)) L.push(`  ${(e.t / 1000).toFixed(3)} ${e.dir === 'in' ? '>' : '<'} ${escapeBytes(e.data).slice(0, 160)}`);
    }
  }
  if (r.notes && r.notes.length) {
    L.push('');
    for (const n of r.notes) L.push(`note: ${n}`);
  }
  L.push('');
  L.push(r.ok ? 'PASS: every bar met' : `FAIL:\n${r.failures.map((f) => `  - ${f}`).join('\n')}`);
  return L.join('\n');
}
