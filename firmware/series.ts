// Runs steps one after another; the first error stops the run and goes to done.
// A step calls next() when it has finished, next(err) when it failed.

export type Next = (err?: any) => void;
export type Step = (next: Next) => void;

export function series(steps: Step[], done: (err: any) => void) {
  let i = 0;
  function next(err?: any) {
    if (err || i == steps.length) return done(err || null);
    steps[i++](next);
  }
  next();
}
