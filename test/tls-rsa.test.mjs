// RSA PKCS#1 v1.5 verification (firmware/tls/rsa.ts) and its modular exponentiation
// (firmware/tls/bignum.ts), run as bundled for the board in the host runtime, against Node's crypto
// and BigInt. One check runs the bundle in the real interpreter (ESPRUINO_BIN).
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, createHash, privateEncrypt, constants } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { itUnless } from './skip.mjs';

describe('tls-rsa.test.mjs', function () {
  this.timeout(120000);
  const bin = (b) => Buffer.from(b).toString('latin1');
  const buf = (s) => Buffer.from(s, 'latin1');
  const lit = (s) => JSON.stringify(s);
  const HASHES = ['SHA256', 'SHA384', 'SHA512'];

  function makeKey(bits, e = 65537) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: e });
    const n = bin(Buffer.from(publicKey.export({ format: 'jwk' }).n, 'base64url'));
    return { bits, n, e, privateKey };
  }
  // a few keys made once: 1024/2048-bit, one with e = 3, one 4096-bit
  const keys = [makeKey(1024), makeKey(1024), makeKey(2048), makeKey(2048, 3), makeKey(1536, 17)];
  const big = makeKey(4096);

  function signed(key, hash, msg) {
    const h = hash.toLowerCase();
    return { digest: bin(createHash(h).update(msg).digest()), sig: bin(sign(h, msg, key.privateKey)) };
  }

  let rsaCode;
  let bignumCode;
  before(async () => {
    rsaCode = (await bundleModule('firmware/tls/rsa.ts')).code;
    bignumCode = (await bundleModule('firmware/tls/bignum.ts')).code;
  });

  function boot(code) {
    const clock = createClock({ mode: 'virtual' });
    const device = createEspruino({ clock });
    device.load(code, 'rsa.js');
    return { clock, device };
  }

  /** rsaVerify on the device; runs its slices on the virtual clock; resolves ok and the slice count */
  async function verify(dev, keyExpr, hash, digest, sig) {
    const { clock, device } = dev;
    device.eval(`globalThis.res = undefined; rsaVerify(${keyExpr}, ${lit(hash)}, ${lit(digest)}, ${lit(sig)}, function (ok) { globalThis.res = ok; });`);
    assert.equal(device.global.res, undefined, 'done is called later, from a timer');
    const ran = await clock.runUntil(() => device.global.res !== undefined, { timeoutMs: 3600e3, stepMs: 1000 });
    assert.ok(ran, 'rsaVerify never called done');
    return device.global.res;
  }

  let dev;
  before(() => {
    dev = boot(rsaCode);
    keys.concat([big]).forEach((k, i) => {
      // lazy[i]: key.m made at first use; prep[i]: rsaPrepare'd (as the build does for anchors)
      dev.device.eval(`globalThis.lazy${i} = { n: ${lit(k.n)}, e: ${k.e} }; globalThis.prep${i} = { n: ${lit(k.n)}, e: ${k.e} }; rsaPrepare(prep${i});`);
    });
  });
  const arbKey = fc.integer({ min: 0, max: keys.length - 1 });
  const arbHash = fc.constantFrom(...HASHES);
  const arbMsg = fc.uint8Array({ minLength: 0, maxLength: 200 }).map((a) => Buffer.from(a));

  it('signatures made by Node verify true, with lazily prepared and rsaPrepare’d keys alike', async () => {
    await fc.assert(
      fc.asyncProperty(arbKey, arbHash, arbMsg, async (i, hash, msg) => {
        const { digest, sig } = signed(keys[i], hash, msg);
        assert.equal(await verify(dev, `prep${i}`, hash, digest, sig), true);
        assert.equal(await verify(dev, `lazy${i}`, hash, digest, sig), true);
        // the lazily made m is cached on the key and is the one rsaPrepare makes
        assert.equal(dev.device.eval(`lazy${i}.m === prep${i}.m && typeof prep${i}.m`), 'string');
      }),
      { numRuns: 25 },
    );
  });

  it('a flipped bit in the signature or the digest gives false', async () => {
    await fc.assert(
      fc.asyncProperty(arbKey, arbHash, arbMsg, fc.boolean(), fc.nat(), async (i, hash, msg, inSig, at) => {
        const { digest, sig } = signed(keys[i], hash, msg);
        const flip = (s) => {
          const b = buf(s);
          const bit = at % (b.length * 8);
          b[bit >> 3] ^= 1 << (bit & 7);
          return bin(b);
        };
        const ok = await verify(dev, `prep${i}`, hash, inSig ? digest : flip(digest), inSig ? flip(sig) : sig);
        assert.equal(ok, false);
      }),
      { numRuns: 30 },
    );
  });

  it('the wrong hash name, a digest of the wrong length, a sig of the wrong length or ≥ n give false', async () => {
    await fc.assert(
      fc.asyncProperty(arbKey, arbHash, arbMsg, fc.nat(), async (i, hash, msg, r) => {
        const key = keys[i];
        const { digest, sig } = signed(key, hash, msg);
        const other = HASHES[(HASHES.indexOf(hash) + 1 + (r % 2)) % 3];
        assert.equal(await verify(dev, `prep${i}`, other, digest, sig), false, 'other hash name');
        assert.equal(await verify(dev, `prep${i}`, ['sha256', 'SHA1', 'MD5', ''][r % 4], digest, sig), false, 'unknown hash name');
        assert.equal(await verify(dev, `prep${i}`, hash, digest.slice(1), sig), false, 'short digest');
        assert.equal(await verify(dev, `prep${i}`, hash, digest, sig.slice(1)), false, 'short sig');
        assert.equal(await verify(dev, `prep${i}`, hash, digest, '\0' + sig), false, 'sig with a leading zero byte');
        assert.equal(await verify(dev, `prep${i}`, hash, digest, sig + '\0'), false, 'long sig');
        // sig + n (same length when it fits) is ≡ sig mod n but ≥ n: refused
        const plusN = BigInt('0x' + buf(sig).toString('hex')) + BigInt('0x' + buf(key.n).toString('hex'));
        const hex = plusN.toString(16).padStart(key.n.length * 2, '0');
        if (hex.length === key.n.length * 2) assert.equal(await verify(dev, `prep${i}`, hash, digest, bin(Buffer.from(hex, 'hex'))), false, 'sig + n');
        assert.equal(await verify(dev, `prep${i}`, hash, digest, key.n), false, 'sig = n');
      }),
      { numRuns: 8 },
    );
  });

  it('encoded messages that differ from EM anywhere give false (padding, DigestInfo, parameters)', async () => {
    const key = keys[2];
    const i = 2;
    const msg = Buffer.from('padding');
    const d = createHash('sha256').update(msg).digest();
    const prefix = Buffer.from('3031300d060960864801650304020105000420', 'hex');
    const k = key.n.length;
    const em = (t, head = [0, 1], fill = 0xff, sep = 0) => Buffer.concat([Buffer.from(head), Buffer.alloc(k - t.length - 3, fill), Buffer.from([sep]), t]);
    const raw = (b) => bin(privateEncrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, b));
    // the real thing, signed raw, verifies: the test's EM is right
    assert.equal(await verify(dev, `prep${i}`, 'SHA256', bin(d), raw(em(Buffer.concat([prefix, d])))), true);
    const noNull = Buffer.concat([Buffer.from('302f300b0609608648016503040201', 'hex'), Buffer.from('0420', 'hex'), d]);
    const bad = [
      em(Buffer.concat([prefix, d]), [0, 2]), // block type 2
      em(Buffer.concat([prefix, d]), [0, 1], 0xfe), // padding not FF
      em(Buffer.concat([prefix, d]), [0, 1], 0xff, 1), // separator not 00
      em(noNull), // DigestInfo without the NULL parameters
      em(Buffer.concat([Buffer.from('3031300d060960864801650304020205000420', 'hex'), d])), // SHA384's OID
      em(Buffer.concat([prefix, d, Buffer.from([0])]).subarray(1)), // shifted by a byte
    ];
    for (const b of bad) assert.equal(await verify(dev, `prep${i}`, 'SHA256', bin(d), raw(b)), false, b.toString('hex').slice(0, 40));
  });

  it('malformed keys and arguments give false (never a throw); rsaPrepare refuses them', async () => {
    const { digest, sig } = signed(keys[0], 'SHA256', Buffer.from('x'));
    for (const keyExpr of [
      'null',
      '{}',
      `{ n: ${lit(keys[0].n)}, e: 65536 }`,
      `{ n: ${lit(keys[0].n)}, e: 1 }`,
      `{ n: ${lit(keys[0].n.slice(0, 40))}, e: 65537 }`,
      `{ n: ${lit('\0' + keys[0].n)}, e: 65537 }`,
    ]) {
      assert.equal(await verify(dev, keyExpr, 'SHA256', digest, sig), false, keyExpr.slice(0, 30));
    }
    assert.equal(await verify(dev, 'prep0', 'SHA256', digest, 12345), false);
    assert.throws(() => dev.device.eval(`rsaPrepare({ n: ${lit(keys[0].n)}, e: 4 })`), /unsupported RSA key/);
  });

  it('RSA-4096 verifies and rejects', async () => {
    for (const hash of ['SHA256', 'SHA512']) {
      const { digest, sig } = signed(big, hash, Buffer.from('root ' + hash));
      const i = keys.length;
      assert.equal(await verify(dev, `prep${i}`, hash, digest, sig), true);
      assert.equal(await verify(dev, `lazy${i}`, hash, digest, sig), true);
      const b = buf(sig);
      b[100] ^= 4;
      assert.equal(await verify(dev, `prep${i}`, hash, digest, bin(b)), false);
    }
  });

  // bignum.ts directly: base^e mod n against BigInt, for odd moduli of every shape (not only RSA
  // moduli): top limb nearly empty or full, 2^t - 1, 2^(t-1) + 1; a given or a computed R².
  it('powMod = BigInt modular exponentiation, for odd moduli of many shapes, and its R² is reusable', async () => {
    const b2s = (x, len) => bin(Buffer.from(x.toString(16).padStart(len * 2, '0'), 'hex'));
    const s2b = (s) => BigInt('0x' + (buf(s).toString('hex') || '0'));
    const modpow = (b, e, n) => {
      let r = 1n;
      b %= n;
      while (e > 0n) {
        if (e & 1n) r = (r * b) % n;
        b = (b * b) % n;
        e >>= 1n;
      }
      return r;
    };
    const d = boot(bignumCode).device;
    const arbN = fc
      .tuple(fc.integer({ min: 512, max: 4096 }), fc.constantFrom('random', 'ones', 'low', 'high'), fc.uint8Array({ minLength: 512, maxLength: 512 }))
      .map(([bits, shape, rnd]) => {
        const one = 1n << BigInt(bits - 1);
        let n;
        if (shape === 'ones') n = (one << 1n) - 1n;
        else if (shape === 'low') n = one + 1n + (s2b(bin(rnd.subarray(0, 4))) << 1n);
        else if (shape === 'high') n = (one << 1n) - 1n - (s2b(bin(rnd.subarray(0, 4))) << 1n);
        else n = one | (s2b(bin(rnd)) & (one - 1n)) | 1n;
        return n;
      });
    await fc.assert(
      fc.asyncProperty(arbN, fc.constantFrom(3, 5, 17, 65537, 0x7fffffff, 12345677), fc.uint8Array({ minLength: 1, maxLength: 512 }), (n, e, rnd) => {
        const len = Math.ceil(n.toString(16).length / 2);
        const base = s2b(bin(rnd)) % n;
        const ns = b2s(n, len);
        const out = d.eval(
          `(function(){ var j = powMod(${lit(ns)}, ${e}, ${lit(b2s(base, len))}, ''); while (!j.work()); var j2 = powMod(${lit(ns)}, ${e}, ${lit(b2s(base, len))}, j.r2()); while (!j2.work()); return [j.result(), j2.result(), j.r2()]; })()`,
        );
        const want = modpow(base, BigInt(e), n);
        assert.equal(s2b(out[0]), want);
        assert.equal(out[1], out[0]);
        assert.equal(s2b(out[2]), modpow(2n, BigInt(2 * 22 * Math.ceil((n.toString(2).length + 2) / 22)), n), 'R² mod n');
      }),
      { numRuns: 40 },
    );
  });

  const REAL = process.env.ESPRUINO_BIN;
  itUnless(
    REAL ? false : 'ESPRUINO_BIN is not set (path of a Linux build of Espruino)',
    'the bundle verifies in the real interpreter (true, a flipped bit false, cached m)',
    () => {
      const key = keys[2];
      const { digest, sig } = signed(key, 'SHA256', Buffer.from('real'));
      const bad = buf(sig);
      bad[7] ^= 0x10;
      const script = `${rsaCode}
var key = { n: ${lit(key.n)}, e: ${key.e} }, out = [];
rsaVerify(key, 'SHA256', ${lit(digest)}, ${lit(sig)}, function (ok) {
  out.push(ok, typeof key.m);
  rsaVerify(key, 'SHA256', ${lit(digest)}, ${lit(bin(bad))}, function (ok2) {
    out.push(ok2);
    rsaVerify(key, 'SHA384', ${lit(digest)}, ${lit(sig)}, function (ok3) { out.push(ok3); print('RESULT ' + JSON.stringify(out)); quit(); });
  });
});
`;
      const dir = mkdtempSync(join(tmpdir(), 'tls-rsa-'));
      try {
        writeFileSync(join(dir, 'rsa.js'), script);
        const stdout = execFileSync('timeout', ['100', REAL, join(dir, 'rsa.js')], { encoding: 'latin1', cwd: dir });
        const line = stdout.split('\n').find((l) => l.includes('RESULT '));
        assert.ok(line, stdout.slice(-1000));
        assert.deepEqual(JSON.parse(line.slice(line.indexOf('RESULT ') + 7)), [true, 'string', false, false]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
