// What the end-to-end test files share: a rig started on the shipped bundle and closed after,
// and the reading numbers that reached the broker.
import { createRig } from '../host/testing/rig.mjs';

/** Runs fn(rig) on a started rig (readings every 30 s unless opts.config says otherwise);
 *  before(rig), if given, runs first (e.g. files already in the board's Storage). */
export async function withRig(opts, fn, before) {
  const rig = await createRig({ config: { intervalSeconds: 30 }, ...opts });
  try {
    if (before) before(rig);
    rig.start();
    await fn(rig);
  } finally {
    await rig.close();
  }
}

/** The reading numbers (n) in the order they arrived. */
export const numbers = (rig) => rig.readings().map((m) => JSON.parse(m.text).n);

/** Real time passes until pred() holds or ms have gone by; returns pred(). */
export async function until(pred, ms) {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return pred();
}
