// One clock for everything on the virtual board: the firmware's timers (setTimeout, getTime)
// and the simulated parts' timers share it, so "virtual time" means the same to both.
//
// virtual mode: time only moves inside runFor/runUntil, jumping from timer to timer, so a
//   simulated hour takes as long as the work done in it. Real I/O (the simulated modem talking
//   to a real broker) takes a hold(); while any hold is open virtual time stands still and the
//   loop waits for the real event loop instead.
// real mode: timers are real setTimeouts and now() is wall time since start (interactive board).

const REAL_WAIT_LIMIT_MS = 15000; // a hold open longer than this in real time is a bug, not slowness

export function createClock({ mode = 'virtual' } = {}) {
  const timers = []; // { id, at, fn, every, seq } kept sorted by (at, seq)
  let nowMs = 0;
  let seq = 0;
  let nextId = 1;
  let holds = 0;
  const realStart = performance.now();
  const realHandles = new Map();
  let failure = null;

  function now() {
    return mode === 'real' ? performance.now() - realStart : nowMs;
  }

  function insert(t) {
    let i = timers.length;
    while (i > 0 && (timers[i - 1].at > t.at || (timers[i - 1].at === t.at && timers[i - 1].seq > t.seq))) i--;
    timers.splice(i, 0, t);
  }

  function fire(t) {
    try {
      t.fn();
    } catch (err) {
      // A timer callback of the host (simulator) threw: that is a bug in the host, surface it.
      failure = failure || err;
      clock.onError(err);
    }
  }

  function schedule(fn, ms, every) {
    const delay = Math.max(0, Number(ms) || 0);
    const id = nextId++;
    if (mode === 'real') {
      const run = () => {
        if (every) realHandles.set(id, setTimeout(run, Math.max(1, delay)));
        else realHandles.delete(id);
        fire({ fn });
      };
      realHandles.set(id, setTimeout(run, delay));
      return id;
    }
    insert({ id, at: nowMs + delay, fn, every: every ? Math.max(delay, 0.001) : 0, seq: seq++ });
    return id;
  }

  function clear(id) {
    if (mode === 'real') {
      clearTimeout(realHandles.get(id));
      realHandles.delete(id);
      return;
    }
    const i = timers.findIndex((t) => t.id === id);
    if (i >= 0) timers.splice(i, 1);
  }

  const yieldToEventLoop = () => new Promise((r) => setImmediate(r));

  async function waitForHolds() {
    const started = performance.now();
    while (holds > 0) {
      if (performance.now() - started > REAL_WAIT_LIMIT_MS) {
        throw new Error(`clock: real I/O hold still open after ${REAL_WAIT_LIMIT_MS} ms of real time`);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  // Runs every timer due before now()+ms, then leaves now() there.
  async function runFor(ms) {
    if (mode === 'real') {
      await new Promise((r) => setTimeout(r, ms));
      if (failure) throw failure;
      return;
    }
    const target = nowMs + ms;
    let sinceYield = 0;
    for (;;) {
      if (holds > 0) await waitForHolds();
      if (failure) throw failure;
      const t = timers[0];
      if (!t || t.at > target) break;
      timers.shift();
      nowMs = Math.max(nowMs, t.at);
      if (t.every) insert({ ...t, at: t.at + t.every, seq: seq++ });
      fire(t);
      // Let real I/O callbacks (sockets to the broker) run now and then; they may add timers.
      if (++sinceYield >= 32) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    await yieldToEventLoop();
    if (holds > 0) return runFor(target - nowMs);
    nowMs = Math.max(nowMs, target);
    if (failure) throw failure;
  }

  // Advances in steps until pred() is true or timeoutMs of clock time has passed.
  async function runUntil(pred, { timeoutMs = 60000, stepMs = 10 } = {}) {
    const end = now() + timeoutMs;
    while (!pred()) {
      if (now() >= end) return false;
      await runFor(Math.min(stepMs, end - now()));
    }
    return true;
  }

  // Stops virtual time while real I/O is outstanding; returns the release function (idempotent).
  function hold() {
    holds++;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        holds--;
      }
    };
  }

  const clock = {
    mode,
    now,
    setTimeout: (fn, ms) => schedule(fn, ms, false),
    setInterval: (fn, ms) => schedule(fn, ms, true),
    clearTimeout: clear,
    clearInterval: clear,
    hold,
    runFor,
    runUntil,
    pendingTimers: () => (mode === 'real' ? realHandles.size : timers.length),
    onError: (err) => {
      if (mode === 'real') console.error(err);
    },
  };
  return clock;
}
