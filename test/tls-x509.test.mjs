// X.509 for the TLS client (firmware/tls/x509.ts, der.ts): parseCert on real public certificates
// (ISRG Root X1, Let's Encrypt R10/R11, a real leaf issued by R10) compared with Node's
// X509Certificate and node-forge; verifyChain on that chain and on chains made here with
// node-forge (good, wrong name, wildcards, dates, unknown CA, non-CA intermediate, tampered
// signature, extra certificates, ECDSA); hostMatches against a reference written from RFC 6125
// §6.4 (fast-check); parseCert on mutated certificates (fast-check). All of it runs on the
// bundled module (bundleModule: tsc ES5 → esbuild → terser → dehoist → gates) in the host
// runtime, and the real chain once more in the real interpreter when ESPRUINO_BIN is set.
// Run: npx mocha test/tls-x509.test.mjs
//      ESPRUINO_BIN=<a Linux build of Espruino> npx mocha test/tls-x509.test.mjs
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPublicKey, generateKeyPairSync, publicDecrypt, constants, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import forge from 'node-forge';
import { bundleModule } from '../build.mjs';
import { checkBundle } from '../buildlib/es5-gate.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { hasRealEspruino, runInRealEspruino } from '../host/espruino/real.mjs';
import { itUnless } from './skip.mjs';

describe('tls-x509.test.mjs', () => {
  const FIX = new URL('./fixtures/tls/', import.meta.url);
  const pems = (name) => readFileSync(new URL(name, FIX), 'latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
  const derOf = (pem) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64').toString('latin1');
  const REAL = {
    root: pems('isrg-root-x1.pem')[0],
    r10: pems('lets-encrypt-r10.pem')[0],
    r11: pems('lets-encrypt-r11.pem')[0],
    leaf: pems('leaf-minio-kastenevents-r10.pem')[0],
  };
  const LEAF_HOST = 'minio.minio-mic.mcourcy.customers.kastenevents.com';
  const secs = (d) => Math.floor(new Date(d).getTime() / 1000);
  const IN_LEAF_LIFE = secs('2024-08-01T00:00:00Z'); // the real leaf is valid 2024-07-01 .. 2024-09-29

  // ------------------------------------------------------------------ Node-crypto stand-in for rsaVerify
  // RSASSA-PKCS1-v1_5 over a given digest: the key is made from (n, e) as a JWK, the signature is
  // opened with the public key (publicDecrypt, PKCS#1 type 1 padding) and must be the DigestInfo
  // of `digest` (RFC 8017 §9.2, note 1), so a wrong digest fails as well as a wrong signature.
  const DIGEST_INFO = {
    SHA256: '3031300d060960864801650304020105000420',
    SHA384: '3041300d060960864801650304020205000430',
    SHA512: '3051300d060960864801650304020305000440',
  };
  const b64u = (buf) => Buffer.from(buf).toString('base64url');
  function uintBytes(v) {
    const out = [];
    for (; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
    return Buffer.from(out);
  }
  const verifyCalls = [];
  function nodeVerify(key, hash, digest, sig, done) {
    verifyCalls.push(hash);
    let ok = false;
    try {
      const pub = createPublicKey({ key: { kty: 'RSA', n: b64u(Buffer.from(key.n, 'latin1')), e: b64u(uintBytes(key.e)) }, format: 'jwk' });
      const opened = publicDecrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(sig, 'latin1'));
      ok = opened.toString('hex') === DIGEST_INFO[hash] + Buffer.from(digest, 'latin1').toString('hex');
    } catch {
      ok = false;
    }
    done(ok);
  }

  // ------------------------------------------------------------------ the bundle in the host runtime
  let bundle, device, clock;
  before(async () => {
    bundle = await bundleModule('firmware/tls/x509.ts');
    clock = createClock({ mode: 'virtual' });
    device = createEspruino({ clock });
    device.load(bundle.code, 'x509.js');
    // the stand-in answers from a timer, as the sliced rsaVerify will
    device.global.nodeVerify = (key, hash, digest, sig, done) => nodeVerify(key, hash, digest, sig, (ok) => device.global.setTimeout(() => done(ok), 0));
  });
  const g = () => device.global;
  const parse = (der) => g().parseCert(der);

  /** verifyChain in the device; resolves to { err, leaf, learned } */
  async function verifyChain(chain, host, now, anchorDers, verify = 'nodeVerify') {
    let out;
    g().__done = (err, leaf, learned) => {
      out = { err, leaf, learned: learned && Array.from(learned) };
    };
    g().__chain = chain;
    g().__anchors = anchorDers;
    device.eval(
      `verifyChain(__chain, ${JSON.stringify(host)}, ${now}, __anchors.map(function (d) { return parseCert(d); }), ${verify}, function (e, l, n) { __done(e, l, n); })`,
    );
    await clock.runUntil(() => out !== undefined, { timeoutMs: 10000 });
    return out;
  }

  it('bundled like the firmware, it passes the gates, and pulls in nothing of rsa.ts', () => {
    assert.deepEqual(checkBundle(bundle.code).errors, []);
    assert.ok(!/Proxy|__require/.test(bundle.code), 'no esbuild require shim');
    assert.ok(bundle.exports.includes('parseCert') && bundle.exports.includes('verifyChain') && bundle.exports.includes('hostMatches'));
    assert.ok(!/rsaVerify/.test(bundle.code), 'rsa.ts is imported for its types only');
    console.log(`      x509 bundle: ${bundle.bytes} bytes`);
  });

  // ------------------------------------------------------------------ real certificates
  describe('real chain: ISRG Root X1 → Let’s Encrypt R10/R11 → a real leaf', () => {
    const JWK = (pem) => new X509Certificate(pem).publicKey.export({ format: 'jwk' });
    const SIG_OIDS = { '1.2.840.113549.1.1.11': 'SHA256', '1.2.840.113549.1.1.12': 'SHA384', '1.2.840.113549.1.1.13': 'SHA512' };

    for (const [name, pem] of Object.entries(REAL)) {
      it(`parseCert(${name}) agrees with Node's X509Certificate and node-forge`, () => {
        const der = derOf(pem);
        const x = new X509Certificate(pem);
        const f = forge.pki.certificateFromPem(pem);
        const asn = forge.asn1.fromDer(forge.util.createBuffer(der));
        const c = parse(der);
        assert.equal(c.tbs, forge.asn1.toDer(asn.value[0]).getBytes(), 'tbs');
        assert.equal(c.hash, SIG_OIDS[f.siginfo.algorithmOid], 'hash');
        assert.equal(c.sig, f.signature, 'signature bytes');
        assert.equal(c.issuer, forge.asn1.toDer(asn.value[0].value[3]).getBytes(), 'issuer DER');
        assert.equal(c.subject, forge.asn1.toDer(asn.value[0].value[5]).getBytes(), 'subject DER');
        assert.equal(c.from, secs(x.validFrom));
        assert.equal(c.to, secs(x.validTo));
        assert.equal(c.ca, x.ca);
        const jwk = JWK(pem);
        assert.equal(Buffer.from(c.key.n, 'latin1').toString('base64url'), jwk.n, 'modulus, no leading zero');
        assert.equal(c.key.e, Buffer.from(jwk.e, 'base64url').readUIntBE(0, Buffer.from(jwk.e, 'base64url').length));
        const san = x.subjectAltName ? x.subjectAltName.split(', ').map((s) => s.replace(/^DNS:/, '')) : null;
        const cn = /CN=([^\n]*)/.exec(x.subject)[1];
        assert.deepEqual(Array.from(c.names), san || [cn]);
        assert.equal(g().commonName(c.subject), cn);
      });
    }

    it('the shape: root and intermediates are CAs, the leaf is not; 4096/2048-bit keys; all sha256WithRSAEncryption', () => {
      const [root, r10, r11, leaf] = [REAL.root, REAL.r10, REAL.r11, REAL.leaf].map((p) => parse(derOf(p)));
      assert.deepEqual([root.ca, r10.ca, r11.ca, leaf.ca], [true, true, true, false]);
      assert.deepEqual(
        [root, r10, r11, leaf].map((c) => c.key.n.length),
        [512, 256, 256, 256],
      );
      assert.deepEqual(
        [root, r10, r11, leaf].map((c) => c.hash),
        ['SHA256', 'SHA256', 'SHA256', 'SHA256'],
      );
      assert.equal(r10.issuer, root.subject);
      assert.equal(r11.issuer, root.subject);
      assert.equal(leaf.issuer, r10.subject);
      assert.equal(root.issuer, root.subject);
      assert.deepEqual(Array.from(leaf.names), [LEAF_HOST]);
    });

    it('R10 and R11 verify under ISRG Root X1, the leaf under R10 (Node-crypto verify stand-in)', async () => {
      for (const r of [REAL.r10, REAL.r11]) {
        const cn = /CN=(R1.)/.exec(new X509Certificate(r).subject)[1];
        // the intermediate as the "leaf": its name is its CN, it is checked against the root
        const out = await verifyChain([derOf(r)], cn, secs('2025-01-01T00:00:00Z'), [derOf(REAL.root)]);
        assert.equal(out.err, null, cn);
      }
      verifyCalls.length = 0;
      const out = await verifyChain([derOf(REAL.leaf), derOf(REAL.r10)], LEAF_HOST, IN_LEAF_LIFE, [derOf(REAL.root)]);
      assert.equal(out.err, null);
      assert.equal(out.leaf.names[0], LEAF_HOST);
      assert.deepEqual(out.learned, [derOf(REAL.r10)], 'R10 was verified up to the root: learned');
      assert.deepEqual(verifyCalls, ['SHA256', 'SHA256'], 'two RSA checks: leaf by R10, R10 by the root');
      // R10 pinned: one check, nothing learned
      verifyCalls.length = 0;
      const pinned = await verifyChain([derOf(REAL.leaf), derOf(REAL.r10)], LEAF_HOST, IN_LEAF_LIFE, [derOf(REAL.r11), derOf(REAL.r10)]);
      assert.equal(pinned.err, null);
      assert.deepEqual(pinned.learned, []);
      assert.deepEqual(verifyCalls, ['SHA256']);
    });

    it('the real chain is refused for the wrong reasons it should be', async () => {
      const chain = [derOf(REAL.leaf), derOf(REAL.r10)];
      const anchors = [derOf(REAL.root)];
      assert.equal(
        (await verifyChain(chain, 'broker.example.com', IN_LEAF_LIFE, anchors)).err,
        `the server's certificate is for ${LEAF_HOST}, not broker.example.com`,
      );
      assert.equal((await verifyChain(chain, LEAF_HOST, secs('2025-01-01T00:00:00Z'), anchors)).err, "the server's certificate expired on 2024-09-29");
      assert.equal((await verifyChain(chain, LEAF_HOST, secs('2024-06-01T00:00:00Z'), anchors)).err, "the server's certificate is not valid before 2024-07-01");
      assert.equal((await verifyChain(chain, LEAF_HOST, 0, anchors)).err, null, 'now = 0: dates are not checked');
      // R11 pinned, but the leaf is R10's and the server sent no R10
      assert.equal(
        (await verifyChain([derOf(REAL.leaf)], LEAF_HOST, IN_LEAF_LIFE, [derOf(REAL.r11)])).err,
        "the server's certificate chain does not end at a CA in broker.ca (it was issued by CN=R10)",
      );
      // one bit of the leaf's signature flipped
      const tampered = derOf(REAL.leaf);
      const flipped = tampered.slice(0, -10) + String.fromCharCode(tampered.charCodeAt(tampered.length - 10) ^ 1) + tampered.slice(-9);
      assert.equal(
        (await verifyChain([flipped, derOf(REAL.r10)], LEAF_HOST, IN_LEAF_LIFE, anchors)).err,
        `the signature on the server's certificate (CN=${LEAF_HOST}) does not verify`,
      );
    });

    // the same chain with verify = the firmware's own rsaVerify (rsa.ts, sliced: the clock runs)
    it('the real chain with the real rsaVerify (leaf by R10, R10 by ISRG Root X1, RSA-4096)', async () => {
      const { code } = await bundleModule('firmware/tls/rsa.ts');
      device.eval(code); // rsa.ts beside the loaded x509.ts
      const out = await verifyChain([derOf(REAL.leaf), derOf(REAL.r10)], LEAF_HOST, IN_LEAF_LIFE, [derOf(REAL.root)], 'rsaVerify');
      assert.equal(out.err, null);
      assert.deepEqual(out.learned, [derOf(REAL.r10)]);
      const r10 = derOf(REAL.r10); // one bit of R10's signature (by the RSA-4096 root) flipped
      const flipped = r10.slice(0, -10) + String.fromCharCode(r10.charCodeAt(r10.length - 10) ^ 1) + r10.slice(-9);
      const bad = await verifyChain([derOf(REAL.leaf), flipped], LEAF_HOST, IN_LEAF_LIFE, [derOf(REAL.root)], 'rsaVerify');
      assert.match(bad.err, /^the signature on the certificate of CN=R10 does not verify|does not verify/);
    });
  });

  // ------------------------------------------------------------------ chains made here
  describe('generated chains (node-forge, RSA 2048)', () => {
    const DAY = 86400;
    const NOW = secs('2025-06-01T00:00:00Z');
    const at = (s) => new Date(s * 1000);
    let K;
    function keyPair() {
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const priv = forge.pki.privateKeyFromPem(privateKey);
      return { priv, pub: forge.pki.setRsaPublicKey(priv.n, priv.e) };
    }
    /** a certificate: subject CN, signed by `by` ({ cert, key }) or self-signed; returns { cert, key, der } */
    function make({ cn, by, key, ca = false, bc = true, san, from = NOW - 10 * DAY, to = NOW + 100 * DAY, md = 'sha256', ext = [] }) {
      const c = forge.pki.createCertificate();
      c.publicKey = key.pub;
      c.serialNumber = '1' + randomBytes(8).toString('hex');
      c.validity.notBefore = at(from);
      c.validity.notAfter = at(to);
      c.setSubject([{ name: 'commonName', value: cn }]);
      c.setIssuer(by ? by.cert.subject.attributes : [{ name: 'commonName', value: cn }]);
      const exts = [];
      if (bc) exts.push({ name: 'basicConstraints', cA: ca, critical: true });
      if (san) exts.push({ name: 'subjectAltName', altNames: san.map((v) => (/^[0-9.]+$/.test(v) ? { type: 7, ip: v } : { type: 2, value: v })) });
      c.setExtensions(exts.concat(ext));
      c.sign(by ? by.key.priv : key.priv, forge.md[md].create());
      return { cert: c, key, der: forge.asn1.toDer(forge.pki.certificateToAsn1(c)).getBytes() };
    }
    let root, inter, leaf, other;
    before(() => {
      K = Array.from({ length: 5 }, keyPair);
      root = make({ cn: 'Test Root', key: K[0], ca: true, from: NOW - 1000 * DAY, to: NOW + 1000 * DAY });
      inter = make({ cn: 'Test Intermediate', by: root, key: K[1], ca: true, md: 'sha384' });
      leaf = make({ cn: 'broker.example.com', by: inter, key: K[2], san: ['broker.example.com', 'alt.example.com'], md: 'sha512' });
      other = make({ cn: 'Other Root', key: K[3], ca: true });
    });

    it('a good chain verifies; hash names follow the signature algorithms; the intermediate is learned', async () => {
      verifyCalls.length = 0;
      const out = await verifyChain([leaf.der, inter.der], 'broker.example.com', NOW, [root.der]);
      assert.equal(out.err, null);
      assert.deepEqual(verifyCalls, ['SHA512', 'SHA384']);
      assert.deepEqual(out.learned, [inter.der]);
      assert.equal((await verifyChain([leaf.der, inter.der], 'ALT.Example.COM.', NOW, [root.der])).err, null, 'case and a trailing dot');
      // the intermediate pinned
      assert.equal((await verifyChain([leaf.der, inter.der], 'broker.example.com', NOW, [inter.der])).err, null);
      assert.equal((await verifyChain([leaf.der], 'broker.example.com', NOW, [other.der, inter.der])).err, null);
    });

    it('wrong name', async () => {
      assert.equal(
        (await verifyChain([leaf.der, inter.der], 'wrong.example.com', NOW, [root.der])).err,
        "the server's certificate is for broker.example.com, alt.example.com, not wrong.example.com",
      );
    });

    it('wildcards: one whole left-most label only; CN only without SAN; IPv4 only from iPAddress', async () => {
      const w = make({ cn: 'ignored.example.org', by: inter, key: K[2], san: ['*.example.com', '127.0.0.1', '10.0.0.1'] });
      const ok = async (host) => (await verifyChain([w.der, inter.der], host, NOW, [root.der])).err;
      assert.equal(await ok('a.example.com'), null);
      assert.equal(await ok('127.0.0.1'), null);
      assert.equal(await ok('10.0.0.1'), null);
      assert.match(await ok('example.com'), /is for \*\.example\.com, 127\.0\.0\.1, 10\.0\.0\.1, not example\.com$/);
      assert.match(await ok('a.b.example.com'), /not a\.b\.example\.com$/);
      assert.match(await ok('ignored.example.org'), /not ignored\.example\.org$/, 'the CN is not used when there is a SAN');
      const noSan = make({ cn: 'cn-only.example.com', by: inter, key: K[2] });
      assert.equal((await verifyChain([noSan.der, inter.der], 'cn-only.example.com', NOW, [root.der])).err, null);
      const ipAsDns = make({ cn: '127.0.0.1', by: inter, key: K[2], san: undefined });
      assert.equal(
        (await verifyChain([ipAsDns.der, inter.der], '127.0.0.1', NOW, [root.der])).err,
        "the server's certificate is for no host name, not 127.0.0.1",
      );
      const partial = make({ cn: 'x', by: inter, key: K[2], san: ['a*.example.com', '*.com', 'b.*.example.com'] });
      for (const h of ['ab.example.com', 'example.com', 'b.c.example.com', 'x.com'])
        assert.match((await verifyChain([partial.der, inter.der], h, NOW, [root.der])).err, /is for/);
    });

    it('expired, not yet valid, an expired intermediate, an expired anchor; now = 0 skips dates', async () => {
      const old = make({ cn: 'broker.example.com', by: inter, key: K[2], san: ['broker.example.com'], from: NOW - 100 * DAY, to: NOW - DAY });
      const young = make({ cn: 'broker.example.com', by: inter, key: K[2], san: ['broker.example.com'], from: NOW + DAY, to: NOW + 100 * DAY });
      const oldInter = make({ cn: 'Test Intermediate', by: root, key: K[1], ca: true, from: NOW - 100 * DAY, to: NOW - 2 * DAY });
      const v = async (chain, anchors, now = NOW) => (await verifyChain(chain, 'broker.example.com', now, anchors)).err;
      const iso = (s) => new Date(s * 1000).toISOString().slice(0, 10);
      assert.equal(await v([old.der, inter.der], [root.der]), `the server's certificate expired on ${iso(NOW - DAY)}`);
      assert.equal(await v([young.der, inter.der], [root.der]), `the server's certificate is not valid before ${iso(NOW + DAY)}`);
      assert.equal(
        await v([leaf.der, oldInter.der], [root.der]),
        `the certificate of CN=Test Intermediate in the server's chain expired on ${iso(NOW - 2 * DAY)}`,
      );
      assert.equal(await v([leaf.der], [oldInter.der]), `the CA certificate CN=Test Intermediate in broker.ca expired on ${iso(NOW - 2 * DAY)}`);
      for (const c of [
        [old.der, inter.der],
        [young.der, inter.der],
        [leaf.der, oldInter.der],
      ])
        assert.equal(await v(c, [root.der], 0), null);
    });

    it('unknown CA, an intermediate that is not a CA (or has no basicConstraints), a tampered signature', async () => {
      assert.equal(
        (await verifyChain([leaf.der, inter.der], 'broker.example.com', NOW, [other.der])).err,
        "the server's certificate chain does not end at a CA in broker.ca (it was issued by CN=Test Root)",
      );
      for (const bc of [true, false]) {
        const notCa = make({ cn: 'Test Intermediate', by: root, key: K[1], ca: false, bc });
        assert.equal(
          (await verifyChain([leaf.der, notCa.der], 'broker.example.com', NOW, [root.der])).err,
          'the certificate of CN=Test Intermediate signed the certificate of CN=broker.example.com but is not a CA',
        );
      }
      const sig = leaf.der.length - 5;
      const bad = leaf.der.slice(0, sig) + String.fromCharCode(leaf.der.charCodeAt(sig) ^ 0x40) + leaf.der.slice(sig + 1);
      assert.equal(
        (await verifyChain([bad, inter.der], 'broker.example.com', NOW, [root.der])).err,
        "the signature on the server's certificate (CN=broker.example.com) does not verify",
      );
      // the intermediate signed by another key under the root's name
      const forged = make({ cn: 'Test Intermediate', by: { cert: root.cert, key: K[4] }, key: K[1], ca: true });
      assert.equal(
        (await verifyChain([leaf.der, forged.der], 'broker.example.com', NOW, [root.der])).err,
        'the signature on the certificate of CN=Test Intermediate does not verify',
      );
      // a verify that says no to everything
      g().__no = (k, h, d, s, done) => done(false);
      assert.match((await verifyChain([leaf.der, inter.der], 'broker.example.com', NOW, [root.der], '__no')).err, /does not verify$/);
    });

    it('chain order: the server’s extra and unrelated certificates, the root sent along, a too long chain', async () => {
      const v = async (chain) => verifyChain(chain, 'broker.example.com', NOW, [root.der]);
      let out = await v([leaf.der, other.der, inter.der]);
      assert.equal(out.err, null);
      assert.deepEqual(out.learned, [inter.der]);
      out = await v([leaf.der, inter.der, root.der]);
      assert.equal(out.err, null);
      assert.deepEqual(out.learned, [inter.der], 'the anchor is reached by name before the root copy in the chain');
      assert.equal(
        (await v([leaf.der, other.der, other.der, other.der, inter.der, root.der])).err,
        'the server sent 6 certificates, more than the 5 cellpub follows',
      );
      assert.equal((await v([])).err, 'the server sent no certificate');
      assert.match((await v(['\x30\x03\x02\x01\x01', inter.der])).err, /^the server's certificate cannot be read \(certificate: /);
      assert.match((await v([leaf.der, 'junk'])).err, /^a certificate in the server's chain cannot be read \(certificate: /);
    });

    it('the leaf itself in broker.ca (byte for byte) is accepted without a signature check', async () => {
      const self = make({ cn: 'self.example.com', key: K[4], san: ['self.example.com'] });
      verifyCalls.length = 0;
      const out = await verifyChain([self.der], 'self.example.com', NOW, [self.der]);
      assert.equal(out.err, null);
      assert.deepEqual(verifyCalls, []);
      assert.match(
        (await verifyChain([self.der], 'self.example.com', NOW, [root.der])).err,
        /does not end at a CA in broker\.ca \(it was issued by CN=self\.example\.com\)/,
      );
    });

    it('ECDSA signatures and keys are named, not verified (openssl-made test chain)', async () => {
      const [ecRoot, ecLeaf] = pems('ecdsa-test-chain.pem').map(derOf);
      const c = parse(ecLeaf);
      assert.equal(c.hash, '');
      assert.equal(c.key, null);
      assert.deepEqual(Array.from(c.names), ['ec.example.com']);
      assert.equal(parse(ecRoot).ca, true);
      const EC_NOW = secs('2030-01-01T00:00:00Z'); // the fixture is valid for 100 years from when it was made
      assert.equal(
        (await verifyChain([ecLeaf], 'ec.example.com', EC_NOW, [ecRoot])).err,
        "the server's certificate chain is signed with ECDSA (the certificate of CN=ec.example.com), which cellpub does not verify",
      );
      // an RSA certificate issued by an ECDSA-keyed anchor (its key cannot check an RSA signature)
      const fakeRoot = parse(ecRoot);
      const rsaUnderEc = make({
        cn: 'broker.example.com',
        by: { cert: { subject: { attributes: [{ name: 'commonName', value: 'cellpub ECDSA test root', valueTagClass: forge.asn1.Type.UTF8 }] } }, key: K[0] },
        key: K[2],
        san: ['broker.example.com'],
      });
      assert.equal(parse(rsaUnderEc.der).issuer, fakeRoot.subject);
      assert.equal(
        (await verifyChain([rsaUnderEc.der], 'broker.example.com', NOW, [ecRoot])).err,
        'the CA CN=cellpub ECDSA test root in broker.ca has a key that is not RSA, which cellpub does not verify',
      );
    });

    it('malformed certificates: clear errors (critical extensions it does not read, trailing bytes, bad times)', () => {
      const err = (der) => {
        try {
          parse(der);
        } catch (e) {
          return e.message;
        }
        return null;
      };
      const nc = make({ cn: 'x', key: K[2], ext: [{ name: 'nameConstraints', id: '2.5.29.30', critical: true, value: forge.asn1.create(0, 16, true, []) }] });
      assert.equal(err(nc.der), 'certificate: critical extension 2.5.29.30 is not understood');
      const ku = make({ cn: 'x', key: K[2], ext: [{ name: 'keyUsage', digitalSignature: true, critical: true }] });
      assert.equal(err(ku.der), null, 'a critical keyUsage is fine');
      assert.equal(err(leaf.der + '\x00'), 'certificate: bytes after the certificate');
      assert.equal(err(leaf.der.slice(0, -1)), 'certificate: truncated');
      assert.equal(err(''), 'certificate: not a DER certificate');
      assert.equal(err('\x30\x80\x00\x00'), 'certificate: indefinite length');
      assert.equal(err('\x30\x84\x00\x00\x00\x01\x00'), 'certificate: length of 4 bytes');
    });
  });

  // ------------------------------------------------------------------ dates
  it('days since 1970 and back (fast-check against Date)', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1950, 0, 1) / 86400000, max: Date.UTC(9999, 11, 31) / 86400000 }), (d) => {
        const t = new Date(d * 86400000);
        assert.equal(g().days(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()), d);
        assert.equal(g().isoDate(d * 86400 + 86399), t.toISOString().slice(0, 10));
      }),
      { numRuns: 500 },
    );
  });

  it('UTCTime before 2050 and GeneralizedTime after it (forge writes both), 1950-2049 as 19xx/20xx', () => {
    const key = forge.pki.rsa.generateKeyPair({ bits: 512, e: 65537 }); // only to sign; not verified here
    for (const [from, to] of [
      ['1950-01-01T00:00:00Z', '2049-12-31T23:59:59Z'],
      ['1999-12-31T23:59:59Z', '2050-01-01T00:00:00Z'],
      ['2024-02-29T12:34:56Z', '9999-12-31T23:59:59Z'],
    ]) {
      const c = forge.pki.createCertificate();
      c.publicKey = key.publicKey;
      c.serialNumber = '01';
      c.validity.notBefore = new Date(from);
      c.validity.notAfter = new Date(to);
      c.setSubject([{ name: 'commonName', value: 'd' }]);
      c.setIssuer([{ name: 'commonName', value: 'd' }]);
      c.sign(key.privateKey, forge.md.sha256.create());
      const der = forge.asn1.toDer(forge.pki.certificateToAsn1(c)).getBytes();
      const p = parse(der);
      assert.equal(p.from, secs(from), from);
      assert.equal(p.to, secs(to), to);
      assert.equal(new X509Certificate(Buffer.from(der, 'latin1')).validTo.length > 0, true);
    }
  });

  // ------------------------------------------------------------------ hostMatches vs RFC 6125
  describe('hostMatches (fast-check against a reference from RFC 6125 §6.4)', () => {
    // reference: labels compared one by one, case-insensitively (ASCII); a trailing dot ignored;
    // "*" only as the whole left-most label of a name with at least 3 labels ("*.com" is refused,
    // §7.2), matching exactly one non-empty label; an IPv4 host matches only an identical name and
    // never a wildcard (§6.2.1); a host or name with an empty label (not a valid DNS name) never
    // matches.
    const lower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const strip = (s) => (s.endsWith('.') ? s.slice(0, -1) : s);
    const isIpv4 = (s) => /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(s);
    function reference(host, names) {
      const hl = strip(lower(host)).split('.');
      if (hl.includes('')) return false;
      return names.some((name) => {
        const nl = strip(lower(name)).split('.');
        if (nl.includes('')) return false;
        if (isIpv4(hl.join('.'))) return nl.join('.') === hl.join('.');
        if (nl.length !== hl.length) return false;
        return nl.every((l, i) => (l.includes('*') ? i === 0 && l === '*' && nl.length >= 3 && !nl.slice(1).some((x) => x.includes('*')) : l === hl[i]));
      });
    }
    const label = fc.constantFrom('a', 'b', 'A', 'xn--p1ai', '*', 'a*', '', '1', '0', 'com', 'example');
    const dotted = fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join('.'));
    const withDot = fc.tuple(dotted, fc.boolean()).map(([s, d]) => (d ? s + '.' : s));
    const ip = fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)).map((a) => a.join('.'));

    // names made from the host as well, so that matches (and near misses) are frequent
    const near = (h) => {
      const rest = h.split('.').slice(1).join('.');
      return fc.constantFrom(h, h.toUpperCase(), h + '.', '*.' + rest, '*.' + h, rest, '*' + h.slice(1), 'x' + h, '*.' + rest.split('.').slice(1).join('.'));
    };
    const hostAndNames = fc.oneof(withDot, ip).chain((h) => fc.tuple(fc.constant(h), fc.array(fc.oneof(withDot, ip, near(h)), { maxLength: 4 })));

    it('agrees with the reference on random hosts and name lists', () => {
      const seen = { true: 0, false: 0, wild: 0 };
      fc.assert(
        fc.property(hostAndNames, ([host, names]) => {
          const want = reference(host, names);
          assert.equal(g().hostMatches(host, names), want, JSON.stringify([host, names]));
          seen[want]++;
          if (want && !names.some((n) => strip(lower(n)) === strip(lower(host)))) seen.wild++;
        }),
        { numRuns: 5000 },
      );
      // the generator reaches both answers, and matches by wildcard
      assert.ok(seen.true > 100 && seen.false > 1000 && seen.wild > 20, JSON.stringify(seen));
    });

    it('the RFC’s examples', () => {
      const cases = [
        ['a.example.com', ['*.example.com'], true],
        ['example.com', ['*.example.com'], false],
        ['a.b.example.com', ['*.example.com'], false],
        ['foo.example.com', ['f*.example.com'], false],
        ['www.example.com', ['WWW.Example.Com'], true],
        ['a.com', ['*.com'], false],
        ['127.0.0.1', ['*.0.0.1'], false],
        ['127.0.0.1', ['127.0.0.1'], true],
        ['', ['*.example.com', ''], false],
      ];
      for (const [h, n, want] of cases) {
        assert.equal(g().hostMatches(h, n), want, `${h} ${n}`);
        assert.equal(reference(h, n), want, `reference: ${h} ${n}`);
      }
    });
  });

  // ------------------------------------------------------------------ mutations
  it('parseCert on mutated real certificates returns or throws Error("certificate: …"), nothing else', () => {
    const bases = [REAL.leaf, REAL.r11, REAL.root].map(derOf);
    const mutation = fc.record({
      base: fc.nat(bases.length - 1),
      edits: fc.array(fc.record({ at: fc.nat(), byte: fc.nat(255), kind: fc.constantFrom('set', 'insert', 'delete', 'cut') }), { minLength: 1, maxLength: 4 }),
    });
    let thrown = 0;
    fc.assert(
      fc.property(mutation, ({ base, edits }) => {
        let s = bases[base];
        for (const { at, byte, kind } of edits) {
          const i = at % (s.length + 1);
          const ch = String.fromCharCode(byte);
          if (kind === 'set') s = s.slice(0, i) + ch + s.slice(i + 1);
          else if (kind === 'insert') s = s.slice(0, i) + ch + s.slice(i);
          else if (kind === 'delete') s = s.slice(0, i) + s.slice(i + 1);
          else s = s.slice(0, i);
        }
        try {
          const c = parse(s);
          assert.equal(typeof c.tbs, 'string');
          assert.ok(Array.isArray(c.names));
        } catch (e) {
          thrown++;
          assert.equal(e.constructor.name, 'Error', `${e.constructor.name}: ${e.message}`);
          assert.match(e.message, /^certificate: [a-z]/);
        }
      }),
      { numRuns: 3000 },
    );
    assert.ok(thrown > 500, `most mutations are refused (${thrown})`);
  });

  // ------------------------------------------------------------------ the real interpreter
  describe('real interpreter (ESPRUINO_BIN)', () => {
    const skip = !hasRealEspruino() && 'ESPRUINO_BIN is not set';
    let esp;
    before(async () => {
      if (!skip) esp = await runInRealEspruino({ code: bundle.code });
    });
    after(async () => {
      if (esp) await esp.stop();
    });
    itUnless(skip, 'parses the real chain as the host runtime does, and verifyChain walks it (digests checked in Node)', async () => {
      const ders = [REAL.leaf, REAL.r10, REAL.root].map(derOf);
      const b64 = (s) => Buffer.from(s, 'latin1').toString('base64');
      const fields = (c) => [c.tbs, c.hash, c.sig, c.issuer, c.subject, c.from, c.to, c.key.n, c.key.e, c.names.join(), c.ca];
      const want = ders.map((d) => fields(parse(d)).map((v) => (typeof v === 'string' ? b64(v) : v)));
      const got = JSON.parse(
        await esp.eval(
          `JSON.stringify([${ders.map((d) => `atob("${b64(d)}")`).join(',')}].map(function (d) { var c = parseCert(d); return [c.tbs, c.hash, c.sig, c.issuer, c.subject, c.from, c.to, c.key.n, c.key.e, c.names.join(), c.ca].map(function (v) { return typeof v == "string" ? btoa(v) : v; }); }))`,
        ),
      );
      assert.deepEqual(got, want);
      // verifyChain with a verify that records (hash, digest) and says yes; the digests are checked here
      await esp.eval(
        `var V = []; var R; verifyChain([atob("${b64(ders[0])}"), atob("${b64(ders[1])}")], ${JSON.stringify(LEAF_HOST)}, ${IN_LEAF_LIFE}, [parseCert(atob("${b64(ders[2])}"))], function (k, h, d, s, done) { V.push([h, btoa(d)]); setTimeout(function () { done(true); }, 0); }, function (e, l, n) { R = [e, n && n.length]; }); 1`,
      );
      let r = 'null';
      for (let i = 0; i < 50 && r === 'null'; i++) {
        await new Promise((res) => setTimeout(res, 50));
        r = await esp.eval('JSON.stringify(R || null)');
      }
      assert.deepEqual(JSON.parse(r), [null, 1]);
      const tbs = (d) => Buffer.from(parse(d).tbs, 'latin1');
      assert.deepEqual(JSON.parse(await esp.eval('JSON.stringify(V)')), [
        ['SHA256', createHash('sha256').update(tbs(ders[0])).digest('base64')],
        ['SHA256', createHash('sha256').update(tbs(ders[1])).digest('base64')],
      ]);
    });
  });
});
