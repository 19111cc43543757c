// Espruino's main loop (src/jsinteractive.c jsiIdle, ~2263-2720) driven by the shared clock.
//
// One "idle pass" does, in this order, what jsiIdle does:
//   1. IO events that arrived since the last pass (serial data chunks, pin watch edges);
//   2. timers whose time has come, in the order they were created (timer array order, not time
//      order), restarting the scan whenever a callback changed the timer list (JSIS_TIMERS_CHANGED);
//   3. queued events (promise reactions, Object.emit): *all* of them, including events queued
//      while running them (jsiExecuteEvents loops until the queue is empty);
//   4. the automatic watchdog kick.
// Virtual time does not move while JS runs. Timers are due at creation time + max(ms, 0.1 ms)
// (TIMER_MIN_INTERVAL, jsinteractive.h:192); events queued outside a pass get a pass 0.1 ms later,
// which stands for "executing JS takes time": so an already queued setTimeout(f, 0) runs before
// a promise callback queued after it, as on the board (espruino-facts.md "Promises").

export const TIMER_MIN_INTERVAL = 0.1; // ms, jsinteractive.h:192
const TIMER_MAX_INTERVAL = 31536000001000; // ms, jsinteractive.h:193

export function createScheduler({ clock, invoke, onPassEnd }) {
  // timers: [{ id, due, intr, cb, args, watch }] in array (= creation) order, like timerArray
  let timers = [];
  let events = [];
  let io = [];
  let passHandle = null;
  let passAt = Infinity;
  let inPass = false;
  let alive = true;
  let timersChanged = false;
  let dropEvents = false;

  function want(at) {
    if (!alive) return;
    const now = clock.now();
    if (at < now) at = now;
    if (at >= passAt) return;
    if (passHandle !== null) clock.clearTimeout(passHandle);
    passAt = at;
    passHandle = clock.setTimeout(pass, at - now);
  }

  function scheduleNext() {
    if (!alive) return;
    if (io.length) want(clock.now());
    else if (events.length) want(clock.now() + TIMER_MIN_INTERVAL);
    let min = Infinity;
    for (const t of timers) if (t.due < min) min = t.due;
    if (min < Infinity) want(min);
  }

  function pass() {
    passHandle = null;
    passAt = Infinity;
    if (!alive) return;
    inPass = true;
    try {
      const now = clock.now();
      // 1. IO events
      const batch = io;
      io = [];
      for (const handler of batch) {
        handler();
        if (!alive) return;
      }
      // 2. timers (jsinteractive.c ~2490-2600)
      do {
        timersChanged = false;
        for (let i = 0; i < timers.length && !timersChanged;) {
          const t = timers[i];
          if (t.due <= now + 1e-9) {
            if (t.watch)
              t.watch.fire(t); // debounce timer of a setWatch
            else invoke(t.cb, undefined, t.args || []);
            if (!alive) return;
            const j = timers.indexOf(t);
            if (j >= 0) {
              if (t.intr)
                t.due += t.intr; // interval read *after* running (changeInterval)
              else {
                timers.splice(j, 1);
                if (j === i) continue;
              }
            }
          }
          i++;
        }
      } while (timersChanged);
      // 3. queued events, until none are left
      while (events.length) {
        const ev = events.shift();
        dropEvents = false;
        invoke(ev.fn, ev.thisArg, ev.args || []);
        if (!alive) return;
        if (dropEvents) {
          // An unhandled promise rejection was seen to drop the other promise callbacks
          // queued in the same pass (espruino-facts.md "Promises").
          events = [];
          dropEvents = false;
        }
      }
      if (onPassEnd) onPassEnd();
    } finally {
      inPass = false;
      scheduleNext();
    }
  }

  function addTimer(t) {
    // jsiTimerAdd: jsvArrayAddToEnd(timerArray, timer, 1) - 1 -> last id + 1, or 1 if empty,
    // so ids are reused once every timer has gone (jsvar.c:3631, jsinteractive.c:2858).
    t.id = timers.length ? timers[timers.length - 1].id + 1 : 1;
    timers.push(t);
    timersChanged = true;
    want(t.due);
    return t.id;
  }

  function setTimer(cb, ms, args, isTimeout, errors) {
    if (typeof cb !== 'function' && typeof cb !== 'string') throw errors.error('Function or String not supplied!');
    let interval = Number(ms);
    if (Number.isNaN(interval) || interval < TIMER_MIN_INTERVAL) interval = TIMER_MIN_INTERVAL;
    if (interval > TIMER_MAX_INTERVAL) throw errors.error('Interval is too long (>100 years)');
    return addTimer({
      due: clock.now() + interval,
      intr: isTimeout ? 0 : interval,
      cb,
      args: args.length ? args : null,
    });
  }

  // clearTimeout/clearInterval (jswrap_interactive.c:553-588): no argument clears every timer
  // except setWatch debounce timers; an explicit undefined throws; ids of either kind match.
  function clearTimer(argsArr, isTimeout, errors) {
    if (argsArr.length === 0) {
      timers = timers.filter((t) => t.watch);
    } else {
      const id = argsArr[0];
      if (id === undefined) {
        const n = isTimeout ? 'Timeout' : 'Interval';
        throw errors.error(`clear${n}(undefined) not allowed. Use clear${n}() instead`);
      }
      if (id === null || typeof id !== 'object') {
        const i = timers.findIndex((t) => String(t.id) === String(Number(id)) || String(t.id) === String(id));
        if (i >= 0) timers.splice(i, 1);
      }
    }
    timersChanged = true;
  }

  function changeInterval(id, ms, errors) {
    let interval = Number(ms);
    if (!(interval >= TIMER_MIN_INTERVAL)) interval = TIMER_MIN_INTERVAL;
    const t = timers.find((x) => String(x.id) === String(id));
    if (!t) throw errors.error('Unknown Interval');
    t.intr = interval;
    t.due = clock.now() + interval;
    timersChanged = true;
    want(t.due);
  }

  return {
    setTimer,
    clearTimer,
    changeInterval,
    addTimer,
    removeTimer(t) {
      const i = timers.indexOf(t);
      if (i >= 0) timers.splice(i, 1);
      timersChanged = true;
    },
    queueEvent(fn, thisArg, args) {
      events.push({ fn, thisArg, args });
      if (!inPass) want(clock.now() + TIMER_MIN_INTERVAL);
    },
    dropQueuedEvents() {
      dropEvents = true;
    },
    pushIO(handler) {
      io.push(handler);
      want(clock.now());
    },
    afterJs() {
      if (!inPass) scheduleNext();
    },
    stop() {
      alive = false;
      if (passHandle !== null) clock.clearTimeout(passHandle);
      passHandle = null;
      timers = [];
      events = [];
      io = [];
    },
    get timerCount() {
      return timers.filter((t) => !t.watch).length;
    },
    get eventCount() {
      return events.length;
    },
    timersForMemory: () => timers,
  };
}
