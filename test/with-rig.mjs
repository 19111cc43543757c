// What the end-to-end test files share: a rig started on the shipped bundle and closed after,
// and the reading numbers that reached the broker.
import { createRig } from '../host/testing/rig.mjs';

/** Runs fn(rig) on a started rig (readings every 30 s unless opts.config says otherwise). */
export async function withRig(opts, fn) {
  const rig = await createRig({ config: { intervalSeconds: 30 }, ...opts });
  try {
    rig.start();
    await fn(rig);
  } finally {
    await rig.close();
  }
}

/** The reading numbers (n) in the order they arrived. */
export const numbers = (rig) => rig.readings().map((m) => JSON.parse(m.text).n);
