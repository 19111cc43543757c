// The symmetric side of TLS 1.2 (firmware/tls/hmac.ts, prf.ts, gcm.ts), each bundled as the firmware
// is (bundleModule: tsc ES5 → esbuild → terser → dehoist → gates) and run in the host runtime, whose
// crypto.AES follows the ESP32 build; compared with Node's crypto, the McGrew–Viega (NIST) GCM test
// cases and the published TLS 1.2 PRF SHA-256 vector; with ESPRUINO_BIN, also in the real interpreter.
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { hasRealEspruino, runInRealEspruino } from '../host/espruino/real.mjs';
import { itUnless } from './skip.mjs';

describe('tls-sym.test.mjs', () => {
  let bundles, code, device;
  before(async () => {
    bundles = {
      hmac: await bundleModule('firmware/tls/hmac.ts'),
      prf: await bundleModule('firmware/tls/prf.ts'),
      gcm: await bundleModule('firmware/tls/gcm.ts'),
    };
    code = [bundles.hmac.code, bundles.prf.code, bundles.gcm.code].join('\n;\n');
    device = createEspruino({ clock: createClock({ mode: 'virtual' }) });
    device.load(code, 'tls-sym.js');
  });

  // binary strings cross into the device as base64 (atob/btoa)
  const b64 = (b) => Buffer.from(b).toString('base64');
  const inp = (b) => `atob(${JSON.stringify(b64(b))})`;
  const out = (s) => (s === null || s === undefined ? s : Buffer.from(s, 'base64'));
  const hex = (h) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

  function nodeSeal(key, nonce, aad, plain) {
    const c = createCipheriv('aes-128-gcm', key, nonce);
    c.setAAD(aad);
    return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  }
  const sealExpr = (key, nonce, aad, plain) => `btoa(createGcm(${inp(key)}).seal(${inp(nonce)}, ${inp(aad)}, ${inp(plain)}))`;
  const openExpr = (key, nonce, aad, sealed) =>
    `(function(){ var r = createGcm(${inp(key)}).open(${inp(nonce)}, ${inp(aad)}, ${inp(sealed)}); return r === null ? null : btoa(r); })()`;

  it('each module passes the build gates and exports the agreed names', () => {
    assert.deepEqual(bundles.gcm.exports, ['createGcm']);
    assert.ok(bundles.hmac.exports.includes('hmacSha256'));
    assert.deepEqual(bundles.prf.exports, ['prf']);
  });

  // McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 1-4 (AES-128)
  const K3 = hex('feffe9928665731c6d6a8f9467308308');
  const IV3 = hex('cafebabefacedbaddecaf888');
  const P3 = hex(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
    1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255`);
  const C3 = hex(`42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
    21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985`);
  const CASES = [
    {
      name: '1 (empty)',
      key: Buffer.alloc(16),
      iv: Buffer.alloc(12),
      aad: Buffer.alloc(0),
      p: Buffer.alloc(0),
      c: Buffer.alloc(0),
      t: hex('58e2fccefa7e3061367f1d57a4e7455a'),
    },
    {
      name: '2 (one zero block)',
      key: Buffer.alloc(16),
      iv: Buffer.alloc(12),
      aad: Buffer.alloc(0),
      p: Buffer.alloc(16),
      c: hex('0388dace60b6a392f328c2b971b2fe78'),
      t: hex('ab6e47d42cec13bdf53a67b21257bddf'),
    },
    { name: '3 (64 bytes)', key: K3, iv: IV3, aad: Buffer.alloc(0), p: P3, c: C3, t: hex('4d5c2af327cd64a62cf35abd2ba6fab4') },
    {
      name: '4 (60 bytes, 20 bytes of AAD)',
      key: K3,
      iv: IV3,
      aad: hex('feedfacedeadbeeffeedfacedeadbeefabaddad2'),
      p: P3.subarray(0, 60),
      c: C3.subarray(0, 60),
      t: hex('5bc94fbc3221a5db94fae95ae7121a47'),
    },
  ];
  for (const v of CASES) {
    it(`GCM: test case ${v.name} seals and opens as published (and as Node)`, () => {
      const want = Buffer.concat([v.c, v.t]);
      assert.deepEqual(nodeSeal(v.key, v.iv, v.aad, v.p), want); // the vector as we typed it
      assert.deepEqual(out(device.eval(sealExpr(v.key, v.iv, v.aad, v.p))), want);
      assert.deepEqual(out(device.eval(openExpr(v.key, v.iv, v.aad, want))), v.p);
    });
  }

  const bytes = (max) => fc.uint8Array({ minLength: 0, maxLength: max }).map((u) => Buffer.from(u));
  const fixed = (n) => fc.uint8Array({ minLength: n, maxLength: n }).map((u) => Buffer.from(u));

  it('GCM: seal = Node aes-128-gcm, and open inverts it, for random key/nonce/aad/plain (0..600 bytes)', () => {
    fc.assert(
      fc.property(fixed(16), fixed(12), bytes(40), bytes(600), (key, nonce, aad, plain) => {
        const want = nodeSeal(key, nonce, aad, plain);
        assert.deepEqual(out(device.eval(sealExpr(key, nonce, aad, plain))), want);
        assert.deepEqual(out(device.eval(openExpr(key, nonce, aad, want))), plain);
      }),
      { numRuns: 60 },
    );
  });

  it("GCM: two Gcm kept side by side (a connection's two keys), used in turn, each = Node", () => {
    // the Gcm objects share the reduction table and the GHASH scratch block: interleaving must not mix them
    fc.assert(
      fc.property(
        fixed(16),
        fixed(16),
        fixed(12),
        fc.array(fc.tuple(fc.boolean(), bytes(20), bytes(80)), { minLength: 1, maxLength: 6 }),
        (k1, k2, nonce, steps) => {
          device.eval(`var g1 = createGcm(${inp(k1)}), g2 = createGcm(${inp(k2)}); true`);
          for (const [second, aad, plain] of steps) {
            const key = second ? k2 : k1;
            const g = second ? 'g2' : 'g1';
            const want = nodeSeal(key, nonce, aad, plain);
            assert.deepEqual(out(device.eval(`btoa(${g}.seal(${inp(nonce)}, ${inp(aad)}, ${inp(plain)}))`)), want);
            const opened = device.eval(`(function(){ var r = ${g}.open(${inp(nonce)}, ${inp(aad)}, ${inp(want)}); return r === null ? null : btoa(r); })()`);
            assert.deepEqual(out(opened), plain);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('GCM: a changed cipher byte, tag byte, AAD byte or nonce, or a short record, opens to null', () => {
    fc.assert(
      fc.property(fixed(16), fixed(12), bytes(20), bytes(100), fc.nat(), fc.integer({ min: 1, max: 255 }), (key, nonce, aad, plain, at, flip) => {
        const sealed = nodeSeal(key, nonce, aad, plain);
        const bad = Buffer.from(sealed);
        bad[at % bad.length] ^= flip; // anywhere in cipher or tag
        assert.equal(device.eval(openExpr(key, nonce, aad, bad)), null);
        const badAad = Buffer.concat([aad, Buffer.from([flip])]);
        assert.equal(device.eval(openExpr(key, nonce, badAad, sealed)), null);
        if (aad.length) {
          const a2 = Buffer.from(aad);
          a2[at % a2.length] ^= flip;
          assert.equal(device.eval(openExpr(key, nonce, a2, sealed)), null);
        }
        const n2 = Buffer.from(nonce);
        n2[at % 12] ^= flip;
        assert.equal(device.eval(openExpr(key, n2, aad, sealed)), null);
        assert.equal(device.eval(openExpr(key, nonce, aad, sealed.subarray(0, at % 16))), null);
      }),
      { numRuns: 40 },
    );
  });

  it('HMAC-SHA256 = Node createHmac (keys 0..100 bytes, messages 0..300)', () => {
    fc.assert(
      fc.property(bytes(100), bytes(300), (key, msg) => {
        const want = createHmac('sha256', key).update(msg).digest();
        assert.deepEqual(out(device.eval(`btoa(hmacSha256(${inp(key)}, ${inp(msg)}))`)), want);
      }),
      { numRuns: 80 },
    );
  });

  // RFC 5246 §5 written with Node's HMAC
  function pSha256(secret, seed, len) {
    const mac = (d) => createHmac('sha256', secret).update(d).digest();
    let a = seed;
    let o = Buffer.alloc(0);
    while (o.length < len) {
      a = mac(a);
      o = Buffer.concat([o, mac(Buffer.concat([a, seed]))]);
    }
    return o.subarray(0, len);
  }
  const prfExpr = (secret, label, seed, len) => `btoa(prf(${inp(secret)}, ${JSON.stringify(label)}, ${inp(seed)}, ${len}))`;

  it('PRF: the published TLS 1.2 PRF SHA-256 vector (IETF TLS list, msg03416)', () => {
    const secret = hex('9bbe436ba940f017b17652849a71db35');
    const seed = hex('a0ba9f936cda311827a6f796ffd5198c');
    const want = hex(`e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af
      0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66`);
    assert.deepEqual(pSha256(secret, Buffer.concat([Buffer.from('test label'), seed]), 100), want);
    assert.deepEqual(out(device.eval(prfExpr(secret, 'test label', seed, 100))), want);
  });

  it('PRF = P_SHA256(secret, label + seed) written with Node HMAC (secrets 0..100, lengths 0..200)', () => {
    fc.assert(
      fc.property(
        bytes(100),
        fc.constantFrom('master secret', 'extended master secret', 'key expansion', 'client finished', 'server finished'),
        bytes(80),
        fc.nat(200),
        (secret, label, seed, len) => {
          const want = pSha256(secret, Buffer.concat([Buffer.from(label), seed]), len);
          assert.deepEqual(out(device.eval(prfExpr(secret, label, seed, len))), want);
        },
      ),
      { numRuns: 60 },
    );
  });

  describe('real Espruino interpreter (ESPRUINO_BIN)', () => {
    const skip = hasRealEspruino() ? false : 'ESPRUINO_BIN is not set (or not executable)';
    let esp;
    before(async () => {
      if (!skip) esp = await runInRealEspruino({ code, timeoutMs: 30000 });
    });
    after(async () => {
      if (esp) await esp.stop();
    });

    itUnless(skip, 'GCM seal/open, HMAC and PRF equal Node in the real interpreter', async () => {
      for (const v of CASES) assert.deepEqual(out(await esp.eval(sealExpr(v.key, v.iv, v.aad, v.p))), Buffer.concat([v.c, v.t]), v.name);
      await fc.assert(
        fc.asyncProperty(fixed(16), fixed(12), bytes(30), bytes(300), async (key, nonce, aad, plain) => {
          const want = nodeSeal(key, nonce, aad, plain);
          assert.deepEqual(out(await esp.eval(sealExpr(key, nonce, aad, plain))), want);
          assert.deepEqual(out(await esp.eval(openExpr(key, nonce, aad, want))), plain);
          const bad = Buffer.from(want);
          bad[bad.length - 1] ^= 1;
          assert.equal(String(await esp.eval(openExpr(key, nonce, aad, bad))), 'null'); // the console prints it
          assert.deepEqual(out(await esp.eval(`btoa(hmacSha256(${inp(key)}, ${inp(plain)}))`)), createHmac('sha256', key).update(plain).digest());
          assert.deepEqual(out(await esp.eval(prfExpr(key, 'key expansion', aad, 40))), pSha256(key, Buffer.concat([Buffer.from('key expansion'), aad]), 40));
        }),
        { numRuns: 10 },
      );
    });
  });
});
