// X25519 (firmware/tls/x25519.ts) bundled as the firmware is, run in the host runtime with a
// virtual clock (its slices are timers), checked against RFC 7748 §5.2 and §6.1 and against
// Node's crypto with fast-check; with ESPRUINO_BIN set, the RFC vectors also in the real interpreter.
// Run: npx mocha test/tls-x25519.test.mjs
//      ESPRUINO_BIN=<a Linux build of Espruino> npx mocha test/tls-x25519.test.mjs
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { hasRealEspruino } from '../host/espruino/real.mjs';
import { itUnless } from './skip.mjs';

describe('tls-x25519.test.mjs', () => {
  const hex = (h) => Buffer.from(h, 'hex');
  const bin = (buf) => Buffer.from(buf).toString('latin1'); // bytes → binary string
  const BASE = Buffer.concat([Buffer.from([9]), Buffer.alloc(31)]);
  const P = (1n << 255n) - 19n;
  const le = (n) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse(); // bigint → 32 LE bytes

  // RFC 7748 §5.2 and §6.1
  const SINGLE = [
    {
      k: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
      u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
      out: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
    },
    {
      k: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
      u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
      out: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
    },
  ];
  const ITER1 = '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079';
  const ITER1000 = '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51';
  const ALICE = {
    priv: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
    pub: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  };
  const BOB = {
    priv: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
    pub: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  };
  const SHARED = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';

  // Node's X25519 on raw bytes. A private JWK needs its public x as well, so raw keys go in as
  // PKCS#8 / SPKI DER (RFC 8410: fixed prefixes + the 32 raw bytes).
  const nodePriv = (k) => createPrivateKey({ key: Buffer.concat([hex('302e020100300506032b656e04220420'), k]), format: 'der', type: 'pkcs8' });
  const nodePub = (u) => createPublicKey({ key: Buffer.concat([hex('302a300506032b656e032100'), u]), format: 'der', type: 'spki' });
  const nodeX25519 = (k, u) => diffieHellman({ privateKey: nodePriv(k), publicKey: nodePub(u) });

  let code;
  let device;
  let clock;
  before(async () => {
    ({ code } = await bundleModule('firmware/tls/x25519.ts'));
    clock = createClock({ mode: 'virtual' });
    device = createEspruino({ clock });
    device.load(code, 'x25519.js');
  });

  /** x25519(k, u) in the bundle on the host runtime; resolves with the output bytes and the slice count */
  async function ours(k, u) {
    device.global.K = bin(k);
    device.global.U = bin(u);
    device.eval('globalThis.R = undefined; x25519(K, U, function (o) { globalThis.R = o; });');
    for (let ms = 0; device.global.R === undefined; ms++) {
      if (ms > 100000) throw new Error('x25519 never called done()');
      await clock.runFor(1);
    }
    const r = device.global.R;
    assert.equal(typeof r, 'string');
    assert.equal(r.length, 32);
    return Buffer.from(r, 'latin1');
  }

  it('is a bundle that passes the build gates and exports x25519 and X25519_BASE', async () => {
    const { exports } = await bundleModule('firmware/tls/x25519.ts');
    assert.deepEqual(exports.sort(), ['X25519_BASE', 'x25519']);
    assert.equal(device.global.X25519_BASE, bin(BASE));
  });

  it('RFC 7748 §5.2: the two single vectors', async () => {
    for (const v of SINGLE) assert.equal((await ours(hex(v.k), hex(v.u))).toString('hex'), v.out);
  });

  it('RFC 7748 §5.2: iterated, after 1 and after 1,000 iterations', async function () {
    let k = BASE;
    let u = BASE;
    for (let i = 1; i <= 1000; i++) {
      const out = await ours(k, u);
      u = k;
      k = out;
      if (i === 1) assert.equal(k.toString('hex'), ITER1);
    }
    assert.equal(k.toString('hex'), ITER1000);
  });

  it('RFC 7748 §6.1: Alice and Bob', async () => {
    assert.equal((await ours(hex(ALICE.priv), BASE)).toString('hex'), ALICE.pub);
    assert.equal((await ours(hex(BOB.priv), BASE)).toString('hex'), BOB.pub);
    assert.equal((await ours(hex(ALICE.priv), hex(BOB.pub))).toString('hex'), SHARED);
    assert.equal((await ours(hex(BOB.priv), hex(ALICE.pub))).toString('hex'), SHARED);
  });

  it('a public key from a random private key is Node’s (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (k) => {
        const theirs = createPublicKey(nodePriv(Buffer.from(k))).export({ format: 'jwk' }).x;
        assert.equal((await ours(k, BASE)).toString('base64url'), theirs);
      }),
      { numRuns: 25 },
    );
  });

  it('shared secrets agree with Node’s crypto.diffieHellman on generated key pairs (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async () => {
        const a = generateKeyPairSync('x25519');
        const b = generateKeyPairSync('x25519');
        const ja = a.privateKey.export({ format: 'jwk' });
        const jb = b.privateKey.export({ format: 'jwk' });
        const theirs = diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey });
        const ab = await ours(Buffer.from(ja.d, 'base64url'), Buffer.from(jb.x, 'base64url'));
        const ba = await ours(Buffer.from(jb.d, 'base64url'), Buffer.from(ja.x, 'base64url'));
        assert.equal(ab.toString('hex'), theirs.toString('hex'));
        assert.equal(ba.toString('hex'), theirs.toString('hex'));
      }),
      { numRuns: 10 },
    );
  });

  it('any u (non-canonical ones and the top bit set included) gives Node’s result, the top bit masked (fast-check)', async () => {
    const u32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
    // u in [p, 2^255) are non-canonical: RFC 7748 §5 reduces them mod p
    const nonCanonical = fc.bigInt({ min: P, max: (1n << 255n) - 1n }).map(le);
    await fc.assert(
      fc.asyncProperty(u32, fc.oneof(u32, nonCanonical), fc.boolean(), async (k, u0, top) => {
        const u = Buffer.from(u0);
        u[31] = top ? u[31] | 0x80 : u[31] & 0x7f;
        const masked = Buffer.from(u);
        masked[31] &= 0x7f;
        let theirs;
        try {
          theirs = nodeX25519(Buffer.from(k), u);
        } catch {
          theirs = Buffer.alloc(32); // OpenSSL refuses an all-zero result (a small-order u)
        }
        const out = await ours(k, u);
        assert.equal(out.toString('hex'), theirs.toString('hex'));
        assert.equal((await ours(k, masked)).toString('hex'), out.toString('hex'));
      }),
      { numRuns: 25 },
    );
  });

  it('a small-order u gives 32 zero bytes (the caller rejects it), where Node refuses', async () => {
    // the points of order 1, 2, 4, 8 and their non-canonical twins (RFC 7748 §7; cr.yp.to/ecdh.html)
    const smallOrder = [
      0n,
      1n,
      325606250916557431795983626356110631294008115727848805560023387167927233504n,
      39382357235489614581723060781553021112529911719440698176882885853963445705823n,
      P - 1n,
      P,
      P + 1n,
    ];
    const k = Buffer.from(generateKeyPairSync('x25519').privateKey.export({ format: 'jwk' }).d, 'base64url');
    for (const n of smallOrder) {
      const u = le(n);
      assert.throws(() => nodeX25519(k, u), undefined, `Node accepted the small-order u ${n}`);
      assert.equal((await ours(k, u)).toString('hex'), '0'.repeat(64), `u = ${n}`);
    }
  });

  it('slices: one ladder step per timer callback, then the inversion in a few dozen', async () => {
    device.eval('globalThis.SLICES = 0; globalThis.realSetTimeout = setTimeout; setTimeout = function (f, ms) { SLICES++; return realSetTimeout(f, ms); };');
    try {
      const out = await ours(BASE, BASE);
      assert.equal(out.toString('hex'), ITER1);
      const slices = device.global.SLICES;
      assert.ok(slices >= 256 && slices < 300, `${slices} slices`);
    } finally {
      device.eval('setTimeout = realSetTimeout;');
    }
  });

  const BIN = process.env.ESPRUINO_BIN;
  itUnless(BIN ? false : 'ESPRUINO_BIN is not set (path of a Linux build of Espruino)', 'the real interpreter: RFC 7748 §5.2 and §6.1', async function () {
    assert.ok(hasRealEspruino(BIN), `ESPRUINO_BIN=${BIN} is not an executable file`);
    const cases = SINGLE.map((v) => [v.k, v.u, v.out]).concat([
      [ALICE.priv, BASE.toString('hex'), ALICE.pub],
      [ALICE.priv, BOB.pub, SHARED],
    ]);
    const b64 = (h) => Buffer.from(h, 'hex').toString('base64');
    const script =
      code +
      '\nvar C = ' +
      JSON.stringify(cases.map(([k, u]) => [b64(k), b64(u)])) +
      ';\nvar out = [];\nfunction next(i) {\n' +
      '  if (i === C.length) { print("RESULT " + out.join(",")); quit(); return; }\n' +
      '  x25519(atob(C[i][0]), atob(C[i][1]), function (o) { out.push(btoa(o)); next(i + 1); });\n' +
      '}\nnext(0);\n';
    const dir = mkdtempSync(join(tmpdir(), 'x25519-'));
    try {
      writeFileSync(join(dir, 'x.js'), script);
      const stdout = await new Promise((resolve, reject) =>
        execFile(BIN, [join(dir, 'x.js')], { cwd: dir, timeout: 600000, maxBuffer: 1 << 20 }, (err, so) =>
          so.includes('RESULT ') ? resolve(so) : reject(err || new Error(so)),
        ),
      );
      const got = stdout
        .slice(stdout.indexOf('RESULT ') + 7)
        .split(/\s/)[0]
        .split(',');
      assert.deepEqual(
        got.map((s) => Buffer.from(s, 'base64').toString('hex')),
        cases.map((c) => c[2]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
