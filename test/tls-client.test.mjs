// The TLS 1.2 client (firmware/tls/client.ts) against real Node/OpenSSL TLS servers, with Node-crypto
// stand-ins for the firmware's primitives (test/helpers/tls-kit.mjs) and a plain Socket over
// node:net: handshake and application data both ways, SNI, resumption by session id and by ticket
// (no public-key operation), refusals with their reasons, tampering, and any chunking of the input.
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { constants, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { makeTestPki } from '../host/broker/pki.mjs';
import { createTlsSocket } from '../firmware/tls/client.ts';
import { makeKit, netSocket } from './helpers/tls-kit.mjs';
import { recorder, replayScript } from './helpers/tls-replay.mjs';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itUnless } from './skip.mjs';

/** Runs a script file in an Espruino binary until it prints a RESULT line (stdin stays open: at EOF the REPL reads garbage). */
function runScript(bin, file) {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, [file], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    const t = setTimeout(() => (p.kill(), reject(new Error('no RESULT within 300 s:\n' + out.slice(-2000)))), 300000);
    p.stdout.on('data', (d) => {
      out += d.toString('latin1');
      const at = out.indexOf('RESULT ');
      if (at >= 0 && out.indexOf('\n', at) > 0) {
        clearTimeout(t);
        p.kill();
        resolve(out);
      }
    });
    p.on('exit', () => (clearTimeout(t), resolve(out)));
  });
}
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';

// the firmware reads the clock with Espruino's getTime() (seconds)
globalThis.getTime ??= () => Date.now() / 1000;

describe('tls-client.test.mjs', () => {
  let pki, other;
  const servers = [];

  before(() => {
    pki = makeTestPki({ hosts: [] });
    other = makeTestPki({ hosts: ['other.invalid'] }); // another CA
  });
  after(() => {
    for (const s of servers) s.close();
  });

  /** A TLS 1.2 echo server; seen records SNI names, reuse flags and the client errors it saw. */
  function server(opts = {}, { cache = false } = {}) {
    const seen = { names: [], reused: [], errors: [], ended: 0 };
    const srv = tls.createServer({
      key: pki.keyPem,
      cert: pki.certPem,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
      ...opts,
    });
    if (cache) {
      const store = new Map();
      srv.on('newSession', (id, data, cb) => (store.set(id.toString('hex'), data), cb()));
      srv.on('resumeSession', (id, cb) => cb(null, store.get(id.toString('hex')) || null));
    }
    srv.on('secureConnection', (s) => {
      seen.names.push(s.servername);
      seen.reused.push(s.isSessionReused());
      s.on('data', (d) => s.write(d));
      s.on('end', () => seen.ended++);
      s.on('error', () => {});
    });
    srv.on('tlsClientError', (e) => seen.errors.push(e.code || e.message));
    servers.push(srv);
    return new Promise((r) => srv.listen(0, '127.0.0.1', () => r({ srv, seen, port: srv.address().port, close: () => srv.close() })));
  }

  /** cfg with a log and a session store; host 'localhost' (the test certificate's name). */
  function config(extra = {}) {
    const logs = [];
    const store = { s: undefined, saves: 0 };
    const cfg = {
      host: 'localhost',
      now: () => Math.floor(Date.now() / 1000),
      anyTime: false,
      log: (l) => logs.push(l),
      load: () => store.s,
      save: (s) => ((store.s = s), store.saves++),
      ...extra,
    };
    return { cfg, logs, store };
  }

  function open(sock, port) {
    return new Promise((r) => sock.open('127.0.0.1', port, true, r));
  }

  /** Sends data and waits until as many bytes came back. */
  function echo(sock, data) {
    return new Promise((resolve, reject) => {
      let got = '';
      sock.onData = (d) => {
        got += d;
        if (got.length >= data.length) resolve(got);
      };
      sock.onClose = (why) => reject(new Error('closed: ' + why));
      sock.send(data, (err) => err && reject(new Error(err)));
    });
  }

  const close = (sock) => new Promise((r) => sock.close(r));
  const printable = (logs) => logs.every((l) => /^[\x20-\x7e]*$/.test(l));
  const delta = (a, b) => ({ x25519: b.x25519 - a.x25519, rsaVerify: b.rsaVerify - a.rsaVerify, verifyChain: b.verifyChain - a.verifyChain });

  /** The record lengths in a string of whole records. */
  function records(s) {
    const out = [];
    for (let i = 0; i + 5 <= s.length;) {
      const n = s.charCodeAt(i + 3) * 256 + s.charCodeAt(i + 4);
      out.push({ type: s.charCodeAt(i), len: n });
      i += 5 + n;
    }
    return out;
  }

  it('completes a handshake, echoes application data both ways (20 KB in records of ≤ 16 KB), sends SNI, and closes with close_notify', async () => {
    const s = await server();
    const kit = makeKit({ caPem: pki.caPem });
    const { cfg, logs, store } = config();
    const plain = netSocket();
    const sock = createTlsSocket(plain, cfg, kit);
    assert.equal(await open(sock, s.port), null, logs.join('\n'));
    assert.deepEqual(s.seen.names, ['localhost']);
    assert.equal(await echo(sock, 'hello'), 'hello');
    const big = randomBytes(20000).toString('latin1');
    assert.equal(await echo(sock, big), big);
    const appRecs = records(plain.sent[plain.sent.length - 1]);
    assert.deepEqual(
      appRecs.map((r) => [r.type, r.len]),
      [
        [23, 16384 + 24],
        [23, 20000 - 16384 + 24],
      ],
    );
    assert.ok(store.s && store.saves === 1, 'the session is kept');
    await close(sock);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.seen.ended, 1, 'the server saw our close_notify');
    assert.ok(printable(logs), logs.join('\n'));
    assert.ok(!logs.join('').includes(store.s.substr(-48)), 'no master secret in the log');
  });

  it('reports the server closing the TLS session (close_notify) through onClose', async () => {
    const s = await server();
    s.srv.on('secureConnection', (t) => setTimeout(() => t.end(), 20));
    const sock = createTlsSocket(netSocket(), config().cfg, makeKit({ caPem: pki.caPem }));
    const why = new Promise((r) => (sock.onClose = r));
    assert.equal(await open(sock, s.port), null);
    assert.match(await why, /close_notify/);
  });

  it('runs one X25519 per full handshake once the boot key pair exists', async () => {
    const s = await server();
    const kit = makeKit({ caPem: pki.caPem });
    const sock = createTlsSocket(netSocket(), config().cfg, kit);
    assert.equal(await open(sock, s.port), null);
    await close(sock);
    const before = { ...kit.calls };
    const sock2 = createTlsSocket(netSocket(), config().cfg, kit);
    assert.equal(await open(sock2, s.port), null);
    assert.deepEqual(delta(before, kit.calls), { x25519: 1, rsaVerify: 1, verifyChain: 1 });
    await close(sock2);
  });

  it('resumes by session id (same socket, kept in RAM) with no public-key operation', async () => {
    const s = await server({ secureOptions: constants.SSL_OP_NO_TICKET }, { cache: true });
    const kit = makeKit({ caPem: pki.caPem });
    const { cfg, logs } = config();
    const sock = createTlsSocket(netSocket(), cfg, kit);
    assert.equal(await open(sock, s.port), null, logs.join('\n'));
    await close(sock);
    const before = { ...kit.calls };
    assert.equal(await open(sock, s.port), null, logs.join('\n'));
    assert.deepEqual(delta(before, kit.calls), { x25519: 0, rsaVerify: 0, verifyChain: 0 });
    assert.equal(await echo(sock, 'after resumption'), 'after resumption');
    assert.deepEqual(s.seen.reused, [false, true]);
    assert.match(logs[logs.length - 1], /resumed/);
    await close(sock);
  });

  it('resumes by ticket (a new socket after a "reboot", session from cfg.load, a server restarted with the same ticket keys)', async () => {
    const ticketKeys = randomBytes(48);
    const s1 = await server({ ticketKeys });
    const kit = makeKit({ caPem: pki.caPem });
    const { cfg, logs, store } = config();
    const sock = createTlsSocket(netSocket(), cfg, kit);
    assert.equal(await open(sock, s1.port), null);
    await close(sock);
    s1.close();
    const s2 = await server({ ticketKeys }); // empty session cache: only the ticket can resume
    const before = { ...kit.calls };
    const saved = store.s;
    const sock2 = createTlsSocket(netSocket(), cfg, kit);
    assert.equal(await open(sock2, s2.port), null, logs.join('\n'));
    assert.deepEqual(delta(before, kit.calls), { x25519: 0, rsaVerify: 0, verifyChain: 0 });
    assert.equal(await echo(sock2, 'ticket'), 'ticket'); // the server's secureConnection comes after our Finished
    assert.deepEqual(s2.seen.reused, [true]);
    assert.notEqual(store.s, saved, 'the new ticket is kept');
    await close(sock2);
  });

  it('falls back to a full handshake when the server does not know the offered session', async () => {
    const s1 = await server();
    const kit = makeKit({ caPem: pki.caPem });
    const { cfg } = config();
    const sock = createTlsSocket(netSocket(), cfg, kit);
    assert.equal(await open(sock, s1.port), null);
    await close(sock);
    const s2 = await server(); // other ticket keys, empty cache
    const before = { ...kit.calls };
    assert.equal(await open(sock, s2.port), null);
    assert.deepEqual(delta(before, kit.calls), { x25519: 1, rsaVerify: 1, verifyChain: 1 });
    assert.equal(await echo(sock, 'x'), 'x');
    assert.deepEqual(s2.seen.reused, [false]);
    await close(sock);
  });

  async function refused(serverOpts, { kit = makeKit({ caPem: pki.caPem }), extra = {}, plainOpts } = {}) {
    const s = await server(serverOpts);
    const { cfg, logs, store } = config(extra);
    store.s = 'S1' + '\0\0'; // a broken kept session is ignored
    const sock = createTlsSocket(netSocket(plainOpts), cfg, kit);
    const err = await open(sock, s.port);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(err, 'refused');
    assert.ok(
      logs.some((l) => l.includes(err)),
      'the reason is logged',
    );
    assert.ok(printable(logs));
    return { err, seen: s.seen, kit, store };
  }

  it('refuses a TLS 1.3-only server, naming the reason', async () => {
    const { err } = await refused({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: undefined });
    assert.equal(err, 'the server does not speak TLS 1.2 (TLS 1.3 only?)');
  });

  it('refuses a server with only AES256-GCM-SHA384, or only non-ECDHE suites, naming the reason', async () => {
    for (const ciphers of ['ECDHE-RSA-AES256-GCM-SHA384', 'AES128-GCM-SHA256:AES256-SHA256']) {
      const { err } = await refused({ ciphers });
      assert.equal(err, 'the server and cellpub share no cipher suite (cellpub offers ECDHE-RSA-AES128-GCM-SHA256 with X25519)');
    }
  });

  it('refuses a certificate verifyChain rejects (unknown CA, wrong name) and sends bad_certificate', async () => {
    const a = await refused({}, { kit: makeKit({ caPem: other.caPem }) });
    assert.match(a.err, /certificate was refused: it is not signed by a trusted CA/);
    assert.ok(
      a.seen.errors.some((e) => /BAD_CERTIFICATE/.test(e)),
      a.seen.errors.join(),
    );
    assert.equal(a.store.s, '', 'the session is forgotten');
    const b = await refused({}, { extra: { host: 'wrong.example' } });
    assert.match(b.err, /it is not for wrong\.example/);
    assert.ok(b.seen.errors.some((e) => /BAD_CERTIFICATE/.test(e)));
  });

  it('refuses when the time is unknown unless the config allows it', async () => {
    const a = await refused({}, { extra: { now: () => 0 } });
    assert.match(a.err, /time is not known/);
    const s = await server();
    const { cfg } = config({ now: () => 0, anyTime: true });
    const sock = createTlsSocket(netSocket(), cfg, makeKit({ caPem: pki.caPem }));
    assert.equal(await open(sock, s.port), null);
    await close(sock);
  });

  it('refuses a ServerKeyExchange whose signature does not verify (decrypt_error sent)', async () => {
    const base = makeKit({ caPem: pki.caPem });
    const a = await refused({}, { kit: { ...base, rsaVerify: (k, h, d, s, done) => setImmediate(() => done(false)) } });
    assert.match(a.err, /key exchange signature does not verify/);
    assert.ok(
      a.seen.errors.some((e) => /DECRYPT_ERROR/.test(e)),
      a.seen.errors.join(),
    );
  });

  it('refuses a ServerKeyExchange altered on the way (one signature byte flipped by a proxy)', async () => {
    let flipped = 0;
    let buf = '';
    let pass = false;
    const tamper = (s) => {
      if (pass) return s;
      buf += s;
      let out = '';
      while (buf.length >= 5 && buf.length >= 5 + buf.charCodeAt(3) * 256 + buf.charCodeAt(4)) {
        const n = buf.charCodeAt(3) * 256 + buf.charCodeAt(4);
        let r = buf.substr(0, 5 + n);
        buf = buf.substr(5 + n);
        if (r.charCodeAt(0) === 22)
          for (let i = 5; i + 4 <= r.length;) {
            const len = (r.charCodeAt(i + 1) << 16) | (r.charCodeAt(i + 2) << 8) | r.charCodeAt(i + 3);
            if (r.charCodeAt(i) === 12) {
              const at = i + 4 + len - 1;
              r = r.substr(0, at) + String.fromCharCode(r.charCodeAt(at) ^ 1) + r.substr(at + 1);
              flipped++;
            }
            i += 4 + len;
          }
        else pass = true;
        out += r;
      }
      return out;
    };
    const a = await refused({}, { plainOpts: { tamper } });
    assert.equal(flipped, 1);
    assert.match(a.err, /key exchange signature does not verify/);
  });

  it('handles any chunking of the server bytes (fast-check: random chunk sizes, same tick or spread)', async () => {
    const s = await server({}, { cache: true });
    const kit = makeKit({ caPem: pki.caPem });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        async (sizes, spread, resume) => {
          let k = 0;
          const chunk = (str) => {
            const out = [];
            for (let i = 0; i < str.length;) {
              const n = sizes[k++ % sizes.length];
              out.push(str.substr(i, n));
              i += n;
            }
            return out;
          };
          const { cfg, logs } = config();
          const sock = createTlsSocket(netSocket({ chunk, spread }), cfg, kit);
          assert.equal(await open(sock, s.port), null, logs.join('\n'));
          const data = randomBytes(3000).toString('latin1');
          assert.equal(await echo(sock, data), data);
          await close(sock);
          if (resume) {
            assert.equal(await open(sock, s.port), null, logs.join('\n'));
            assert.match(logs[logs.length - 1], /resumed/);
            assert.equal(await echo(sock, data), data);
            await close(sock);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('as a bundle: passes the ES5/Espruino gates and, in the host runtime, shakes hands, echoes and resumes', async () => {
    const { code, bytes, exports } = await bundleModule('firmware/tls/client.ts');
    assert.deepEqual(exports.sort(), ['createTlsSocket', 'prepare']);
    console.log(`      firmware/tls/client.ts bundle: ${bytes} bytes`);
    const device = createEspruino({ clock: createClock({ mode: 'real' }) });
    device.load(code, 'tls-client.js');
    const g = device.global;
    const s = await server({ secureOptions: constants.SSL_OP_NO_TICKET }, { cache: true });
    const kit = makeKit({ caPem: pki.caPem });
    const { cfg, logs } = config();
    const sock = g.createTlsSocket(netSocket({ chunk: (x) => x.match(/[^]{1,100}/g) }), cfg, kit);
    assert.equal(await open(sock, s.port), null, logs.join('\n'));
    const data = randomBytes(17000).toString('latin1');
    assert.equal(await echo(sock, data), data);
    await close(sock);
    const before = { ...kit.calls };
    assert.equal(await open(sock, s.port), null, logs.join('\n'));
    assert.equal(await echo(sock, 'again'), 'again');
    assert.deepEqual(delta(before, kit.calls), { x25519: 0, rsaVerify: 0, verifyChain: 0 });
    assert.deepEqual(s.seen.reused, [false, true]);
    await close(sock);
    device.powerOff?.();
  });

  for (const [bin, what] of [
    [process.env.ESPRUINO_BIN, 'ESPRUINO_BIN'],
    [process.env.ESPRUINO64_BIN, 'ESPRUINO64_BIN, a native build'],
  ])
    itUnless(
      !(bin && existsSync(bin)) && `no Espruino binary in ${what.split(',')[0]}`,
      `in the real Espruino (${what}): replays a recorded full and resumed session byte for byte`,
      async () => {
        const { code } = await bundleModule('firmware/tls/client.ts');
        const device = createEspruino({ clock: createClock({ mode: 'real' }) });
        device.load(code, 'tls-client.js');
        const s = await server({ secureOptions: constants.SSL_OP_NO_TICKET }, { cache: true });
        const r = recorder(makeKit({ caPem: pki.caPem }));
        const { cfg, logs } = config();
        const sock = device.global.createTlsSocket(r.plain(netSocket({ tamper: r.tamper })), cfg, r.kit);
        const message = 'reading 21.5 C';
        for (let i = 0; i < 2; i++) {
          assert.equal(await open(sock, s.port), null, logs.join('\n'));
          r.mark();
          assert.equal(await echo(sock, message), message);
          await close(sock);
        }
        assert.deepEqual(s.seen.reused, [false, true]);
        const dir = mkdtempSync(join(tmpdir(), 'tls-replay-'));
        writeFileSync(join(dir, 'replay.js'), replayScript(code, r, message));
        const out = await runScript(bin, join(dir, 'replay.js'));
        const at = out.indexOf('RESULT ');
        assert.ok(at >= 0, out.slice(-2000));
        const res = JSON.parse(out.slice(at + 7, out.indexOf('\n', at)));
        assert.equal(res.err, undefined, res.logs.join('\n'));
        assert.equal(res.bad, '');
        assert.equal(res.calls, r.calls.length);
        assert.equal(res.conns.length, 2);
        for (let i = 0; i < 2; i++) {
          assert.equal(res.conns[i].out, Buffer.from(r.conns[i].out, 'latin1').toString('hex'), `connection ${i}: the same bytes sent`);
          assert.equal(res.conns[i].got, Buffer.from(message, 'latin1').toString('hex'));
        }
        assert.deepEqual(res.logs, logs);
        const [base, ...rest] = res.mem;
        console.log(
          `      ${what}: JsVars above the idle baseline (${base}): handshake peak ${res.peak - base}, established / closed: ${rest.map((m) => m - base).join(' / ')}`,
        );
      },
    );
});
