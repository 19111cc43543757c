#!/usr/bin/env node
// The soak's figures, printed (test/soak.test.mjs asserts the bars on shorter runs):
//   node --import tsx bench/soak.mjs [--board t-a7670x|t-call-sim800l|both] [--hours 72] [--seed 1]
//        [--interval 60] [--mean-minutes 10] [--kinds a,b,c] [--verbose]
// Runs the real firmware bundle on the virtual board (host/testing/rig.mjs) with a random fault about
// every 10 simulated minutes (host/testing/faults.mjs), then prints what arrived at the broker: readings
// taken, delivered, duplicates, missing, out of order, worst recovery per fault kind, peak queue,
// real seconds taken, and the faults that broke something. Exit code 0 whatever the outcome
// (figures, not a gate); --strict exits 1 when a bar is missed.

import { runSoak, formatSoak } from '../host/testing/soak.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const flag = (name) => args.includes(`--${name}`);

const boardArg = opt('board', 'both');
const boards = boardArg === 'both' ? ['t-a7670x', 't-call-sim800l'] : boardArg.split(',');
const hours = Number(opt('hours', 72));
const seed = opt('seed', '1');
const intervalS = Number(opt('interval', 60));
const meanIntervalMs = Number(opt('mean-minutes', 10)) * 60000;
const kinds = opt('kinds', null);
const verbose = flag('verbose');

let failed = false;
for (const board of boards) {
  const r = await runSoak({
    board,
    hours,
    seed: /^\d+$/.test(seed) ? Number(seed) : seed,
    intervalS,
    meanIntervalMs,
    kinds: kinds ? kinds.split(',') : undefined,
    log: verbose ? (l) => console.log(`  ${l}`) : () => {},
  });
  console.log(formatSoak(r));
  console.log('');
  if (!r.ok) failed = true;
}
process.exit(flag('strict') && failed ? 1 : 0);
