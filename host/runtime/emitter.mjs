// Every Espruino object is an event emitter (jswrap_object.c ~806-1100): on/addListener/
// prependListener/emit/removeListener/removeAllListeners live on Object.prototype.
// `emit` does not call the listeners: it queues one event that calls them at idle
// (jswrap_object.c:993 jsiQueueEvents), and takes at most 4 arguments.
// Listeners are kept host-side (a WeakMap) instead of Espruino's hidden "#onX" properties.

export function installEmitter(R, { queueEvent, invoke, onListenerAdded }) {
  const store = new WeakMap(); // obj -> Map(event -> fn[])

  function list(obj, event, create) {
    let m = store.get(obj);
    if (!m) {
      if (!create) return null;
      m = new Map();
      store.set(obj, m);
    }
    let l = m.get(event);
    if (!l && create) {
      l = [];
      m.set(event, l);
    }
    return l || null;
  }
  const isObj = (o) => o !== null && (typeof o === 'object' || typeof o === 'function');

  function add(obj, event, fn, prepend) {
    if (!isObj(obj)) throw new R.TypeError('Parent must be an object - not a String, Integer, etc');
    if (typeof event !== 'string') throw new R.TypeError('First argument must be a String');
    if (typeof fn !== 'function' && typeof fn !== 'string') throw new R.TypeError('Second argument must be a function');
    const l = list(obj, event, true);
    if (prepend) l.unshift(fn);
    else l.push(fn);
    if (onListenerAdded) onListenerAdded(obj, event);
  }

  const methods = {
    on(event, fn) {
      add(this, event, fn, false);
    },
    addListener(event, fn) {
      add(this, event, fn, false);
    },
    prependListener(event, fn) {
      add(this, event, fn, true);
    },
    emit(event) {
      if (!isObj(this)) throw new R.TypeError('Parent must be an object - not a String, Integer, etc');
      if (typeof event !== 'string') throw new R.TypeError('First argument must be String');
      const args = Array.prototype.slice.call(arguments, 1);
      if (args.length > 4) throw new R.TypeError('Too many arguments (>4)');
      const l = list(this, event, false);
      if (!l || !l.length) return;
      const self = this;
      const fns = l.slice();
      queueEvent(() => {
        for (const fn of fns) invoke(fn, self, args);
      });
    },
    removeListener(event, fn) {
      const l = list(this, event, false);
      if (!l) return;
      const i = l.indexOf(fn);
      if (i >= 0) l.splice(i, 1);
    },
    removeAllListeners(event) {
      const m = store.get(this);
      if (!m) return;
      if (event === undefined) m.clear();
      else m.delete(event);
    },
  };
  for (const [k, v] of Object.entries(methods)) {
    const f = R.Function('f', `return function ${k}(){ return f.apply(this, arguments); };`)(v);
    Object.defineProperty(R.Object.prototype, k, { value: f, writable: true, configurable: true, enumerable: false });
  }

  return {
    listeners(obj, event) {
      const l = list(obj, event, false);
      return l ? l.slice() : [];
    },
    hasListeners(obj, event) {
      const l = list(obj, event, false);
      return !!(l && l.length);
    },
    // Calls the listeners now (the firmware side of jsiExecuteEventCallbackName).
    emitNow(obj, event, args) {
      const l = list(obj, event, false);
      if (!l || !l.length) return false;
      for (const fn of l.slice()) invoke(fn, obj, args);
      return true;
    },
    all(obj) {
      return store.get(obj);
    },
  };
}
