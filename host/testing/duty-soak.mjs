// The duty-cycle soak: the real firmware bundle with power.mode "duty-cycle" on a virtual
// installation (host/testing/rig.mjs) for many simulated days, its sleep clock drifting, and now
// and then the power cut in the middle of an upload. Used by bench/soak-duty.mjs (prints) and
// test/duty-soak.test.mjs (asserts). Measured outside the firmware wherever possible:
//   readings taken     every forced measurement the firmware starts on the simulated BME280, in
//                      virtual (true) time: the n-th take is reading n (the counter survives
//                      sleeps and cuts; a take whose storing a cut interrupted has no reading);
//   readings arrived   every PUBLISH on the telemetry topic from the device that the broker took
//                      (broker.received), parsed; "in order" = first arrivals with rising n;
//   timestamp error    the reading's ts minus the true time of its take (the network's clock is
//                      the rig's clock plus a known epoch), per reading; the same for the clock
//                      the firmware would have had without drift correction: the raw RTC error
//                      at that moment (the drift accumulated since the last network sync);
//   Storage            live and trash bytes and file count after every upload: the last quarter
//                      of the run may not hold more live bytes than the first quarter plus slack;
//   wakes / uploads    the firmware's own log lines ("wake:", "upload: done|failed").

import { createRig } from './rig.mjs';
import { recordTakes } from './soak.mjs';

const S = 1000;
const HOUR = 3600 * S;
const DAY = 24 * HOUR;

/**
 * @param o.board board id
 * @param o.days simulated days
 * @param o.intervalS reading interval; o.uploadEveryS upload period
 * @param o.driftPpm how fast the ESP32's sleep clock runs (createEspruino rtcDriftPpm)
 * @param o.cutEvery cut the power in the middle of every n-th upload (0: never)
 * @param o.stepMs virtual time per step (holds keep real I/O in step)
 */
export async function runDutySoak({
  board = 't-a7670x',
  days = 30,
  intervalS = 900,
  uploadEveryS = 3600,
  driftPpm = 20000,
  cutEvery = 10,
  cutAfterS = 12,
  cutForS = 60,
  stepMs = 60 * S,
  seed = 1,
  config = {},
  log = () => {},
} = {}) {
  const realStart = Date.now();
  const rig = await createRig({
    board,
    config: { intervalSeconds: intervalS, power: { mode: 'duty-cycle', uploadEverySeconds: uploadEveryS }, ...config },
    deviceOptions: { seed, rtcDriftPpm: driftPpm },
  });
  const { clock } = rig;
  const epoch = rig.networkNow() - clock.now();
  const telemetry = rig.config.topics.telemetry;
  const clientId = rig.config.broker.clientId;

  const takes = recordTakes(rig);
  const devLog = [];
  const storage = [];
  const cuts = [];
  let uploadsStarted = 0;
  rig.device.onLog((line) => {
    const t = clock.now();
    devLog.push({ t, line });
    if (/\] upload: (done|failed)/.test(line)) {
      const s = rig.device.storage.stats();
      storage.push({ t, fileBytes: s.fileBytes, trashBytes: s.trashBytes, fileCount: s.fileCount });
    }
    if (/\] upload: start/.test(line) && cutEvery && ++uploadsStarted % cutEvery === 0) {
      // the power goes in the middle of this upload, and comes back a minute later
      clock.setTimeout(() => {
        if (rig.powerLoss()) cuts.push({ t: clock.now() });
        clock.setTimeout(() => rig.powerRestore(), cutForS * S);
      }, cutAfterS * S);
    }
  });

  try {
    rig.start();
    const end = days * DAY;
    let nextReport = DAY;
    while (clock.now() < end) {
      await clock.runFor(Math.min(stepMs, end - clock.now()));
      if (clock.now() >= nextReport) {
        log(
          `day ${Math.round(clock.now() / DAY)}: ${takes.length} taken, ${arrivedKeys(rig).size} arrived, ${((Date.now() - realStart) / 1000).toFixed(0)} s real`,
        );
        nextReport += DAY;
      }
    }
    // the backlog goes out at the next upload: run until every reading taken before the end has
    // arrived, at most two upload periods more
    const cutoffTakes = takes.length;
    const numbered = takes.filter((t) => !cutShort(t, cuts)).length;
    const drainEnd = clock.now() + 2 * uploadEveryS * S + 600 * S;
    while (clock.now() < drainEnd && arrivedKeys(rig).size < numbered) await clock.runFor(stepMs);
    return analyse({
      rig,
      takes: takes.slice(0, cutoffTakes),
      epoch,
      telemetry,
      clientId,
      devLog,
      storage,
      cuts,
      driftPpm,
      days,
      intervalS,
      uploadEveryS,
      board,
      realMs: Date.now() - realStart,
    });
  } finally {
    await rig.close();
  }
}

/** a take whose storing the power cut (less than 2 s before the cut): it never got a number */
const cutShort = (t, cuts) => cuts.some((c) => t <= c.t && c.t - t < 2 * S);

function arrivedKeys(rig) {
  const out = new Set();
  for (const m of rig.broker.received) {
    if (m.topic !== rig.config.topics.telemetry) continue;
    try {
      out.add(JSON.parse(m.payload.toString('utf8')).n);
    } catch {
      /* counted as unparsable in analyse */
    }
  }
  return out;
}

/** The figures of one run (exported for the arithmetic's own test). */
export function analyse({ rig, takes, epoch, telemetry, clientId, devLog, storage, cuts, driftPpm, days, intervalS, uploadEveryS, board, realMs, received }) {
  const msgs = (received || rig.broker.received).filter((m) => m.topic === telemetry && m.clientId === clientId);
  const arrivals = [];
  let unparsable = 0;
  for (const m of msgs) {
    try {
      arrivals.push(JSON.parse(m.payload.toString('utf8')));
    } catch {
      unparsable++;
    }
  }
  // first arrival of each n, in arrival order
  const seen = new Set();
  const first = arrivals.filter((r) => typeof r.n === 'number' && !seen.has(r.n) && seen.add(r.n));
  let outOfOrder = 0;
  for (let i = 1; i < first.length; i++) if (first[i].n < first[i - 1].n) outOfOrder++;
  const maxN = first.reduce((m, r) => Math.max(m, r.n), 0);
  // readings are numbered from 1 with no gaps, whatever the cuts did: every number the
  // firmware gave out up to the highest that arrived should have arrived
  const missing = [];
  for (let n = 1; n <= maxN; n++) if (!seen.has(n)) missing.push(n);
  // a take the power cut before its reading was stored has no number: count them apart
  const takesCutShort = takes.filter((t) => cutShort(t, cuts)).length;
  // timestamps against the true take times (reading n = the n-th take that got a number)
  const numbered = takes.filter((t) => !cutShort(t, cuts));
  const syncs = devLog.filter((l) => /\] clock: /.test(l.line)).map((l) => l.t);
  let maxTsErr = 0;
  let maxRawErr = 0;
  let withTs = 0;
  for (const r of first) {
    const take = numbered[r.n - 1];
    if (take === undefined || typeof r.ts !== 'string') continue;
    withTs++;
    const err = Date.parse(r.ts) - (epoch + take);
    if (Math.abs(err) > Math.abs(maxTsErr)) maxTsErr = err;
    // what an uncorrected RTC would say: the drift since the last sync before the take
    const lastSync = syncs.filter((t) => t <= take).pop() ?? 0;
    const raw = ((take - lastSync) * driftPpm) / 1e6;
    if (Math.abs(raw) > Math.abs(maxRawErr)) maxRawErr = raw;
  }
  const q = Math.max(1, Math.floor(storage.length / 4));
  const avg = (a, k) => (a.length ? a.reduce((s, x) => s + x[k], 0) / a.length : 0);
  const storageFirst = avg(storage.slice(0, q), 'fileBytes');
  const storageLast = avg(storage.slice(-q), 'fileBytes');
  const count = (re) => devLog.filter((l) => re.test(l.line)).length;
  return {
    board,
    days,
    intervalS,
    uploadEveryS,
    driftPpm,
    taken: takes.length,
    takesCutShort,
    arrived: msgs.length,
    delivered: seen.size,
    duplicates: arrivals.length - first.length,
    unparsable,
    missing,
    outOfOrder,
    withTs,
    maxTsErrS: maxTsErr / 1000,
    maxRawErrS: maxRawErr / 1000,
    clockLines: devLog.filter((l) => /\] clock: .* off the network time/.test(l.line)).map((l) => l.line.replace(/^\[[^\]]*\] /, '')),
    wakes: count(/\] wake: /),
    uploadsDone: count(/\] upload: done/),
    uploadsFailed: count(/\] upload: failed/),
    cuts: cuts.length,
    storageFirstBytes: Math.round(storageFirst),
    storageLastBytes: Math.round(storageLast),
    storagePeakBytes: storage.reduce((m, s) => Math.max(m, s.fileBytes), 0),
    storageFiles: storage.length ? storage[storage.length - 1].fileCount : 0,
    errors: rig ? rig.device.errors.slice() : [],
    realS: realMs / 1000,
  };
}

export function formatDutySoak(r) {
  const row = (k, v) => `  ${k.padEnd(48)} ${v}`;
  return [
    `duty-cycle soak: ${r.board}, ${r.days} days, a reading every ${r.intervalS} s, upload every ${r.uploadEveryS} s, sleep clock ${r.driftPpm / 1e4} % fast`,
    row('wakes / uploads done / failed', `${r.wakes} / ${r.uploadsDone} / ${r.uploadsFailed}`),
    row('power cuts in the middle of an upload', `${r.cuts}`),
    row('readings taken (a cut stopped the storing of)', `${r.taken} (${r.takesCutShort})`),
    row('readings delivered / missing / out of order', `${r.delivered} / ${r.missing.length} / ${r.outOfOrder}`),
    row('duplicates (re-sent after a cut)', `${r.duplicates}`),
    row('worst timestamp error, corrected', `${r.maxTsErrS.toFixed(1)} s (${r.withTs} readings with ts)`),
    row('worst error the uncorrected RTC would have had', `${r.maxRawErrS.toFixed(1)} s`),
    row('clock offsets found at the last syncs', r.clockLines.slice(-2).join(' | ') || '-'),
    row(
      'Storage live bytes: first quarter / last quarter / peak',
      `${r.storageFirstBytes} / ${r.storageLastBytes} / ${r.storagePeakBytes} (${r.storageFiles} files)`,
    ),
    row('uncaught errors', `${r.errors.length}`),
    row('real time', `${r.realS.toFixed(1)} s`),
  ].join('\n');
}
