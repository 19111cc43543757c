// A step calls next() when it has finished, next(err) when it failed (at/script.ts runs them in
// order); jobs of several steps that must not interleave go through a job queue.

export type Next = (err?: any) => void;
export type Step = (next: Next) => void;

/**
 * Runs multi-command jobs one at a time. A publish is three commands (TOPIC, PAYLOAD, PUB) that
 * share the modem's topic/payload buffers, so two publishes must never interleave.
 */
export function createJobQueue() {
  const jobs: { run: Step; done: (err: any) => void }[] = [];
  let busy = false;
  function pump() {
    if (busy || !jobs.length) return;
    busy = true;
    const job = jobs.shift()!;
    job.run(function (err?: any) {
      busy = false;
      job.done(err || null);
      pump();
    });
  }
  return function (run: Step, done: (err: any) => void) {
    jobs.push({ run: run, done: done });
    pump();
  };
}
