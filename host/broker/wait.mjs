// A promise that resolves with pred()'s value once it is truthy. It is re-checked whenever the
// owner calls the functions in `watchers` (on each broker event) and, with pollMs, on a timer
// (for predicates on state the owner does not see change).

export function waitUntil(watchers, pred, ms, what, pollMs = 0) {
  return new Promise((resolve, reject) => {
    const check = () => {
      let v;
      try {
        v = pred();
      } catch (err) {
        done();
        reject(err);
        return;
      }
      if (v) {
        done();
        resolve(v);
      }
    };
    const poll = pollMs ? setInterval(check, pollMs) : null;
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const done = () => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      watchers.delete(check);
    };
    watchers.add(check);
    check();
  });
}
