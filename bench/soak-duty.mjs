#!/usr/bin/env node
// The duty-cycle soak's figures, printed (test/duty-soak.test.mjs asserts them on a shorter run):
//   node --import tsx bench/soak-duty.mjs [--board t-a7670x|t-call-sim800l|both] [--days 30]
//        [--interval 900] [--upload 3600] [--drift-ppm 20000] [--cut-every 10] [--verbose]
// The real firmware bundle, power.mode "duty-cycle", on the virtual board for simulated days: a
// sleep clock that runs fast, the power cut in the middle of every n-th upload. Prints what
// arrived, the timestamps' worst error with and without the drift correction, and Storage use.
import { runDutySoak, formatDutySoak } from '../host/testing/duty-soak.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const boardArg = opt('board', 'both');
const boards = boardArg === 'both' ? ['t-a7670x', 't-call-sim800l'] : boardArg.split(',');
for (const board of boards) {
  const r = await runDutySoak({
    board,
    days: Number(opt('days', 30)),
    intervalS: Number(opt('interval', 900)),
    uploadEveryS: Number(opt('upload', 3600)),
    driftPpm: Number(opt('drift-ppm', 20000)),
    cutEvery: Number(opt('cut-every', 10)),
    log: args.includes('--verbose') ? (l) => console.log(`  ${l}`) : () => {},
  });
  console.log(formatDutySoak(r));
  console.log('');
}
