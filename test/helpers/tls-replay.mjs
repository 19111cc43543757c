// Record a TLS client session in Node (the kit's answers in call order, the bytes each connection
// received and sent) and replay it in the real Espruino interpreter: the bundled client gets the
// same answers from a replaying kit and the same input, so it must send the same bytes. This checks
// the protocol code itself in the real interpreter while the primitives run elsewhere.
const hex = (s) => Buffer.from(s, 'latin1').toString('hex');

/** Wraps kit (and a plain socket factory) so every answer and every byte is recorded. */
export function recorder(kit) {
  const calls = []; // [name, hex of the answer]
  const conns = []; // { inb, out }
  const rec = (name, v) => (calls.push([name, typeof v === 'string' ? hex(v) : v === null ? null : v ? '01' : '00']), v);
  const wrapped = {
    ...kit,
    random: (n) => rec('random', kit.random(n)),
    hash: (n, s) => rec('hash', kit.hash(n, s)),
    prf: (a, b, c, d) => rec('prf', kit.prf(a, b, c, d)),
    gcm(key) {
      rec('gcm', '');
      const g = kit.gcm(key);
      return { seal: (n, a, p) => rec('seal', g.seal(n, a, p)), open: (n, a, s) => rec('open', g.open(n, a, s)) };
    },
    x25519: (k, u, done) => {
      const i = calls.push(['x25519', null]) - 1;
      kit.x25519(k, u, (out) => ((calls[i][1] = hex(out)), done(out)));
    },
    rsaVerify: (key, h, d, s, done) => {
      const i = calls.push(['rsaVerify', null]) - 1;
      kit.rsaVerify(key, h, d, s, (ok) => ((calls[i][1] = ok ? '01' : '00'), done(ok)));
    },
    verifyChain: (chain, host, now, done) => {
      const i = calls.push(['verifyChain', null]) - 1;
      kit.verifyChain(chain, host, now, (err, leaf) => ((calls[i][1] = err ? null : '01'), done(err, leaf)));
    },
  };
  /** wraps a plain socket: each open() starts a recorded connection; pass tamper to netSocket for the input */
  function plain(sock) {
    const { open, send } = sock;
    sock.open = (h, p, t, cb) => (conns.push({ inb: '', out: '' }), open(h, p, t, cb));
    sock.send = (d, cb) => ((conns[conns.length - 1].out += d), send(d, cb));
    return sock;
  }
  const tamper = (d) => ((conns[conns.length - 1].inb += d), d);
  /** call when open() has called back: the input after this point came in answer to application data */
  const mark = () => (conns[conns.length - 1].cut = conns[conns.length - 1].inb.length);
  return { kit: wrapped, plain, tamper, mark, calls, conns };
}

/**
 * The script for the real interpreter: the bundle, then a replay of each recorded connection
 * (open, the handshake input after the ClientHello, send `message`, the rest of the
 * input after it, close). It prints one JSON line
 * "RESULT {...}" with what each connection sent (hex), what came back, process.memory().usage (mem:
 * before, then established and closed per connection, each from a timer, so no handshake frame is on
 * the stack) and peak (the most seen at any kit call: the handshake's peak, replay tables included).
 */
export function replayScript(bundle, { calls, conns }, message) {
  return `${bundle}
var T = ${JSON.stringify(calls)};
var C = ${JSON.stringify(conns.map((c) => [hex(c.inb.slice(0, c.cut)), hex(c.inb.slice(c.cut))]))};
var M = ${JSON.stringify(hex(message))};
function unhex(h) { var s = ''; for (var i = 0; i < h.length; i += 2) s += String.fromCharCode(parseInt(h.substr(i, 2), 16)); return s; }
function tohex(s) { var h = ''; for (var i = 0; i < s.length; i++) h += (256 + s.charCodeAt(i)).toString(16).substr(1); return h; }
var k = 0, bad = '';
var peak = 0;
function next(name) { var u = process.memory().usage; if (u > peak) peak = u; var e = T[k++]; if (!e || e[0] !== name) { bad = bad || ('call ' + (k - 1) + ': ' + name + ' where ' + (e && e[0]) + ' was recorded'); return ''; } return e[1] === null ? null : unhex(e[1]); }
var kit = {
  random: function () { return next('random'); },
  hash: function () { return next('hash'); },
  prf: function () { return next('prf'); },
  gcm: function () { next('gcm'); return { seal: function () { return next('seal'); }, open: function () { return next('open'); } }; },
  x25519: function (a, b, done) { var r = next('x25519'); setTimeout(function () { done(r); }, 0); },
  rsaVerify: function (a, b, c, d, done) { var r = next('rsaVerify'); setTimeout(function () { done(r === '\\x01'); }, 0); },
  verifyChain: function (a, b, c, done) { var r = next('verifyChain'); setTimeout(function () { done(r ? null : 'refused', { key: { n: '', e: 65537 } }); }, 0); }
};
var res = { conns: [], logs: [], mem: [] };
var cur = null, kept = '';
var plain = {
  open: function (h, p, t, cb) { cur = { out: '', got: '', part: 0 }; res.conns.push(cur); setTimeout(function () { cb(null); }, 0); },
  send: function (d, cb) {
    cur.out += d;
    var c = cur;
    if (c.part === 0 || (c.part === 1 && c.up)) { var inb = unhex(C[res.conns.length - 1][c.part++]); setTimeout(function () { for (var i = 0; i < inb.length; i += 100) plain.onData(inb.substr(i, 100)); }, 0); }
    setTimeout(function () { cb(null); }, 0);
  },
  close: function (cb) { setTimeout(cb, 0); },
  onData: function () {}, onClose: function () {}
};
var cfg = { host: 'localhost', now: function () { return ${Math.floor(Date.now() / 1000)}; }, anyTime: false, log: function (l) { res.logs.push(l); },
  load: function () { return kept; }, save: function (s) { kept = s; } };
var sock, n = 0;
function one() {
  sock.open('127.0.0.1', 443, true, function (err) {
    if (err) { res.err = err; return fin(); }
    cur.up = true;
    setTimeout(function () { res.mem.push(process.memory().usage); go(); }, 0);
  });
  function go() {
    sock.onData = function (d) {
      cur.got += d;
      if (cur.got.length < M.length / 2) return;
      sock.close(function () { res.mem.push(process.memory().usage); if (++n < C.length) setTimeout(one, 0); else fin(); });
    };
    sock.send(unhex(M), function () {});
  }
}
function fin() {
  for (var i = 0; i < res.conns.length; i++) { delete res.conns[i].part; delete res.conns[i].up; res.conns[i].out = tohex(res.conns[i].out); res.conns[i].got = tohex(res.conns[i].got); }
  res.bad = bad; res.calls = k; res.peak = peak;
  print('RESULT ' + JSON.stringify(res));
}
setTimeout(function () { res.mem.push(process.memory().usage); sock = createTlsSocket(plain, cfg, kit); one(); }, 0);
`;
}
