// Espruino's Promise (src/jswrap_promise.c at c5ff787), evaluated inside the firmware's context so
// its objects belong to that realm. Only then/catch/all/resolve/reject exist. Resolving, rejecting
// and every reaction are *queued events* run by the idle loop (jsiQueueEvents), i.e. macrotasks
// after the timers of the same pass - not V8 microtasks. Reproduced quirks:
//  - `then` on an already *fulfilled* promise without an onFulfilled callback (e.g. a late
//    `.catch(fn)`) rejects the returned promise with the value: the reaction is queued with
//    isThen=false (jswrap_promise.c, jswrap_promise_then "Already resolved" branch, then
//    _jswrap_promise_reaction_call treats a missing callback with !isThen as a throw);
//  - callbacks are called with `this` = the promise they hang on;
//  - Promise.resolve(thenable) runs thenable.then with `this` = the new promise (it is passed to
//    the constructor as the executor);
//  - a rejection with no catch reaction raises "Unhandled promise rejection: <value>" as an
//    uncaught error in the idle loop (jswrap_promise.c:133).

function espruinoPromiseFactory(queue, unhandled, makeError, WM) {
  var PENDING = 0,
    REJECTED = 1,
    FULFILLED = 2;
  var S = new WM(); // promise -> { state, value, thn: [], cat: [] }

  function isObject(v) {
    return v !== null && typeof v === 'object';
  }
  function isPromise(p) {
    return isObject(p) && S.has(p);
  }
  function createBox() {
    var p = Object.create(Promise.prototype);
    S.set(p, { state: PENDING, value: undefined, thn: null, cat: null });
    return { prom: p, resl: false };
  }
  function reactionCall(promise, reaction, data, isThen) {
    var nextBox = reaction.next;
    if (!nextBox || !nextBox.prom) return;
    var threw = false;
    var retVal;
    if (reaction.cb) {
      try {
        retVal = reaction.cb.call(promise, data);
      } catch (e) {
        threw = true;
        retVal = e;
      }
    } else {
      if (!isThen) threw = true;
      retVal = data;
    }
    resolveOrReject(nextBox, retVal, !threw);
  }
  function queueReaction(promise, reaction, value, isThenCb) {
    queue(function () {
      reactionCall(promise, reaction, value, isThenCb);
    });
  }
  function seal(promise, data, resolving) {
    var s = S.get(promise);
    s.state = resolving ? FULFILLED : REJECTED;
    var reactions = resolving ? s.thn : s.cat;
    if (!reactions) {
      if (!resolving) throw unhandled('Unhandled promise rejection: ' + String(data));
    } else {
      for (var i = 0; i < reactions.length; i++) queueReaction(promise, reactions[i], data, resolving);
    }
  }
  function resolveOrReject(box, data, resolving) {
    if (box.resl) return;
    box.resl = true;
    var promise = box.prom;
    if (!promise) return;
    if (data === promise) throw makeError('Illegal resolving to self');
    S.get(promise).value = data;
    if (!resolving || !isObject(data)) return seal(promise, data, resolving);
    var then = data.then;
    var isThenable = typeof then === 'function';
    if (!isThenable && !isPromise(data)) return seal(promise, data, resolving);
    var box2 = { prom: promise, resl: false };
    var res = function (v) {
      resolveOrReject(box2, v, true);
    };
    var rej = function (v) {
      resolveOrReject(box2, v, false);
    };
    if (isThenable) {
      try {
        then.call(data, res, rej);
      } catch (e) {
        rej(e);
      }
    } else {
      promiseThen(data, res, rej);
    }
  }
  function queueResolveOrReject(box, data, isResolve) {
    queue(function () {
      resolveOrReject(box, data, isResolve);
    });
  }
  function newReaction(nextBox, cb) {
    return { cb: cb, next: nextBox };
  }
  function addReaction(parent, nextBox, cb, resolve) {
    var s = S.get(parent);
    var name = resolve ? 'thn' : 'cat';
    if (!s[name]) s[name] = [];
    s[name].push(newReaction(nextBox, cb));
  }
  function promiseThen(parent, onFulfilled, onRejected) {
    var nextBox = createBox();
    if (typeof onFulfilled !== 'function') onFulfilled = null;
    if (typeof onRejected !== 'function') onRejected = null;
    var s = S.get(parent);
    if (!s) throw makeError('Not a Promise', 'TypeError');
    if (s.state === PENDING) {
      addReaction(parent, nextBox, onFulfilled, true);
      addReaction(parent, nextBox, onRejected, false);
    } else {
      var cb = s.state === FULFILLED ? onFulfilled : onRejected;
      queueReaction(parent, newReaction(nextBox, cb), s.value, false); // sic: isThen=false
    }
    return nextBox.prom;
  }

  function Promise(executor) {
    if (!executor) throw makeError('Function required in promise constructor');
    var box = createBox();
    var promise = box.prom;
    var resolve = function (v) {
      queueResolveOrReject(box, v, true);
    };
    var reject = function (v) {
      queueResolveOrReject(box, v, false);
    };
    try {
      executor.call(promise, resolve, reject);
    } catch (e) {
      queueResolveOrReject(box, e, false);
    }
    return promise;
  }
  Promise.prototype.then = function then(onFulfilled, onRejected) {
    return promiseThen(this, onFulfilled, onRejected);
  };
  Promise.prototype['catch'] = function (onRejected) {
    return promiseThen(this, 0, onRejected);
  };
  Promise.resolve = function resolve(data) {
    if (isPromise(data)) return data;
    if (isObject(data) && typeof data.then === 'function') return new Promise(data.then);
    var box = createBox();
    queueResolveOrReject(box, data, true);
    return box.prom;
  };
  Promise.reject = function reject(data) {
    var box = createBox();
    queueResolveOrReject(box, data, false);
    return box.prom;
  };
  Promise.all = function all(arr) {
    if (arr === null || arr === undefined || (typeof arr !== 'object' && typeof arr !== 'string')) {
      throw makeError('Expecting something iterable, got ' + (arr === null ? 'null' : typeof arr), 'TypeError');
    }
    var box = createBox();
    var promise = box.prom;
    var results = [];
    var state = { remaining: 0, results: results };
    var index = 0,
      complete = 0;
    var reject = function (data) {
      if (state.results) {
        state.results = null;
        queueResolveOrReject(box, data, false);
      }
    };
    var keys = Object.keys(arr);
    for (var k = 0; k < keys.length; k++) {
      var p = arr[keys[k]];
      if (isPromise(p)) {
        (function (i) {
          promiseThen(
            p,
            function (data) {
              if (!state.results) return;
              state.results[i] = data;
              state.remaining--;
              if (state.remaining === 0) queueResolveOrReject(box, state.results, true);
            },
            reject,
          );
        })(index);
      } else {
        results[index] = p;
        complete++;
      }
      index++;
    }
    if (complete === index) return Promise.resolve(results);
    state.remaining = index - complete;
    return promise;
  };
  return Promise;
}

export const promiseFactorySource = `(${espruinoPromiseFactory.toString()})`;
