// Device-side harness of bench/tls.mjs (ES5, runs after the bench/tls-entry.ts bundle, in the host
// runtime and in the real interpreters). It builds the kit firmware/tls/broker-tls.ts builds (the
// same primitives, anchors parsed from the root's PEM plus the learned intermediates at every
// handshake), wraps every kit function with getTime() and every timer callback (a slice: the time
// the interpreter is not free for the UART), and runs: this boot's X25519 key pair, a full
// handshake (first ever: the root checks the intermediate), a second full one (the intermediate is
// now an anchor), a resumed one. Set before benchStart(): PLAIN (the plain socket), report(res).
// bench/tls.mjs inlines the four values below (the NOW, HOST, ROOT_PEM, MEM placeholders). In a function: the
// bundle's dehoisted top-level names are short and would clash.
(function () {
  var NOW = __NOW__,
    HOST = __HOST__,
    ROOT_PEM = __ROOT_PEM__,
    MEM = __MEM__;
  var st = setTimeout;
  var acc, cnt, longest, longestOp, nSlices, peak, label, byOp, tops;
  function reset() {
    acc = {};
    cnt = {};
    longest = 0;
    longestOp = '';
    nSlices = 0;
    peak = 0;
    label = [];
    byOp = {};
    tops = [];
  }
  reset();
  function mem() {
    if (MEM) {
      var u = process.memory().usage;
      if (u > peak) peak = u;
    }
  }
  function add(name, dt) {
    acc[name] = (acc[name] || 0) + dt * 1000;
    cnt[name] = (cnt[name] || 0) + 1;
  }
  global.setTimeout = function (f, ms) {
    return st(function () {
      // attributed to the operation running when the callback starts
      var op = label.length ? label[label.length - 1] : 'protocol/feed';
      var t = getTime();
      f();
      var d = getTime() - t;
      nSlices++;
      var b = byOp[op] || (byOp[op] = { n: 0, max: 0 });
      b.n++;
      if (d * 1000 > b.max) b.max = d * 1000;
      var end = label.length ? label[label.length - 1] : 'protocol/feed';
      if (d > longest) {
        longest = d;
        longestOp = op === end ? op : op + ' → ' + end;
      }
      if (!MEM && d * 1000 > 4 && tops.length < 40) tops.push([Math.round(d * 10000) / 10, nSlices, op, end]);
      mem();
    }, ms);
  };
  function timed(name, f) {
    return function (a, b, c, d) {
      var t = getTime();
      var r = f(a, b, c, d);
      add(name, getTime() - t);
      mem();
      return r;
    };
  }
  /** f(..., done): the time from the call to done (its slices and the gaps between them) */
  function timedAsync(name, f) {
    return function () {
      var args = [];
      for (var i = 0; i < arguments.length; i++) args.push(arguments[i]);
      var done = args[args.length - 1];
      var nm = typeof name === 'function' ? name() : name;
      var t = getTime();
      label.push(nm);
      mem();
      args[args.length - 1] = function (a, b, c) {
        label.pop();
        add(nm, getTime() - t);
        mem();
        done(a, b, c);
      };
      f.apply(null, args);
    };
  }
  var seed = 0;
  var crypto = require('crypto');
  // deterministic, so the real interpreter sends the very bytes the host runtime sent to the real server
  function random(n) {
    var o = '';
    while (o.length < n) o += E.toString(crypto.SHA256('cellpub bench random ' + seed++));
    return o.substr(0, n);
  }
  var learned = '';
  function ders(s) {
    var out = [];
    for (var p = 0; p + 4 <= s.length && s.charCodeAt(p + 1) == 0x82;) {
      var len = 4 + ((s.charCodeAt(p + 2) << 8) | s.charCodeAt(p + 3));
      out.push(s.substr(p, len));
      p += len;
    }
    return out;
  }
  // as broker-tls.ts: one anchor parsed per slice
  function anchors(done) {
    var list = null;
    var out = [];
    var j = 0;
    function next() {
      if (!list) {
        var t = getTime();
        var pem = ROOT_PEM.split('-----BEGIN CERTIFICATE-----');
        list = ders(learned);
        for (var i = 1; i < pem.length; i++) list.push(atob(pem[i].split('-----')[0]));
        add('anchors parse', getTime() - t);
        return setTimeout(next, 0);
      }
      if (j >= list.length) return done(out);
      var t2 = getTime();
      out.push(parseCert(list[j++]));
      add('anchors parse', getTime() - t2);
      setTimeout(next, 0);
    }
    setTimeout(next, 0);
  }
  var phase = 'boot';
  var kit = {
    random: timed('random', random),
    hash: timed('hash', function (name, s) {
      return E.toString(crypto[name](s));
    }),
    prf: timed('prf', prf),
    gcm: function (key) {
      var g = timed('gcm', createGcm)(key);
      return {
        seal: timed('gcm', function (n, a, p) {
          return g.seal(n, a, p);
        }),
        open: timed('gcm', function (n, a, s) {
          return g.open(n, a, s);
        }),
      };
    },
    x25519: timedAsync(function () {
      return phase === 'boot' ? 'x25519 keygen' : 'x25519 shared';
    }, x25519),
    rsaVerify: timedAsync('SKE rsaVerify', rsaVerify),
    verifyChain: timedAsync('verifyChain', function (chain, host, now, done) {
      // as broker-tls.ts: the chain's check starts in the slice after the last anchor's parse
      anchors(function (a) {
        verifyChain(chain, host, now, a, timedAsync('chain RSA', rsaVerify), function (err, leaf, l) {
          if (l && l.length) learned += l.join('');
          done(err, leaf);
        });
      });
    }),
  };
  var store = '';
  var logs = [];
  var cfg = {
    host: HOST,
    now: function () {
      return NOW;
    },
    anyTime: false,
    log: function (l) {
      logs.push(l);
    },
    load: function () {
      return store;
    },
    save: function (s) {
      store = s;
    },
  };
  function usage() {
    return MEM ? process.memory().usage : 0;
  }
  function handshake(name, keep, next) {
    if (!keep) store = '';
    st(function () {
      reset();
      var base = usage();
      peak = base;
      var s = createTlsSocket(global.PLAIN, cfg, kit);
      var t = getTime();
      s.open(HOST, 8883, true, function (err) {
        var r = {
          name: name,
          err: err,
          ms: (getTime() - t) * 1000,
          ops: acc,
          cnt: cnt,
          longest: longest * 1000,
          longestOp: longestOp,
          slices: nSlices,
          byOp: JSON.parse(JSON.stringify(byOp)),
          tops: tops.slice(0, 40),
          base: base,
          peak: peak,
        };
        st(function () {
          r.open = usage();
          s.close(function () {
            st(function () {
              r.closed = usage();
              next(r);
            }, 10);
          });
        }, 0);
      });
    }, 0);
  }
  function benchStart() {
    var res = { hs: [], logs: logs };
    st(function () {
      res.idle = usage();
      res.total = MEM ? process.memory().total : 0;
      reset();
      var t = getTime();
      prepare(kit, function () {
        res.boot = { ms: (getTime() - t) * 1000, longest: longest * 1000, slices: nSlices, byOp: byOp, peak: peak };
        phase = 'connect';
        handshake('full, first ever (root checks the intermediate)', false, function (a) {
          res.hs.push(a);
          handshake('full, intermediate learned as an anchor', false, function (b) {
            res.hs.push(b);
            handshake('resumed (session of the previous one)', true, function (c) {
              res.hs.push(c);
              res.after = usage();
              global.report(res);
            });
          });
        });
      });
    }, 0);
  }
  global.benchStart = benchStart;
})();
