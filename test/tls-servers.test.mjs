// The TLS servers for the firmware's own TLS 1.2 client (host/testing/tls-servers.mjs, issue 12):
// each behaves as it claims, shown with Node's own TLS client restricted like cellpub's (TLS 1.2,
// ECDHE-RSA-AES128-GCM-SHA256, X25519, PKCS#1 v1.5 signatures, SNI, trusting the test root only).
// Every refusal has a control: the same client, with only the one thing the server gets wrong
// allowed, gets through, so a refusal is for the reason claimed.
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { makeChainPki } from '../host/broker/index.mjs';
import {
  BAD_SERVERS,
  TLS_CLUSTER_HOST,
  TLS_TEST_USER,
  cellpubClientOptions,
  findServerKeyExchange,
  startGoodTlsServer,
  startTamperedSkeServer,
  tlsTestPki,
} from '../host/testing/tls-servers.mjs';

describe('tls-servers.test.mjs', function () {
  this.timeout(60000); // the first run makes the RSA-4096 root (cached afterwards)

  let pki;
  before(() => {
    pki = tlsTestPki();
  });

  /** a raw TLS handshake → { ok, code, socket, session } (session: the TLS session data, if any) */
  function handshake(opts) {
    return new Promise((resolve) => {
      let session = null;
      const s = tls.connect(opts);
      s.on('session', (d) => (session = d));
      s.once('secureConnect', () => setTimeout(() => resolve({ ok: true, socket: s, session }), 50));
      s.once('error', (err) => resolve({ ok: false, code: err.code || err.message }));
    });
  }

  /** TLS handshake, MQTT CONNECT (and optionally one QoS 0 PUBLISH) → { connack, reused, session } */
  async function mqttOverTls(opts, { clientId = 'node-cellpub', publish = null, password = TLS_TEST_USER.password } = {}) {
    const h = await handshake(opts);
    if (!h.ok) return h;
    const s = h.socket;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const connack = new Promise((resolve) => parser.on('packet', (p) => p.cmd === 'connack' && resolve(p)));
    s.on('data', (d) => parser.parse(d));
    s.write(
      mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId,
        keepalive: 60,
        username: TLS_TEST_USER.name,
        password: Buffer.from(password),
      }),
    );
    const ack = await connack;
    if (publish) s.write(mqttPacket.generate({ cmd: 'publish', topic: publish.topic, payload: publish.payload, qos: 0, retain: false, dup: false }));
    await new Promise((r) => setTimeout(r, 50));
    const reused = s.isSessionReused();
    const session = h.session || s.getSession();
    s.end();
    return { ok: true, connack: ack, reused, session, protocol: s.getProtocol(), cipher: s.getCipher().name };
  }

  describe('makeChainPki', () => {
    it('root (RSA 4096, self-signed CA) → intermediate (RSA 2048, CA, pathLen 0) → wildcard leaf (RSA 2048), all sha256WithRSA', () => {
      const root = new X509Certificate(pki.rootPem);
      const inter = new X509Certificate(pki.intermediatePem);
      const leaf = new X509Certificate(pki.leafPem);
      assert.equal(root.publicKey.asymmetricKeyDetails.modulusLength, 4096);
      assert.equal(inter.publicKey.asymmetricKeyDetails.modulusLength, 2048);
      assert.equal(leaf.publicKey.asymmetricKeyDetails.modulusLength, 2048);
      assert.equal(root.publicKey.asymmetricKeyDetails.publicExponent, 65537n);
      assert.ok(root.ca && inter.ca && !leaf.ca);
      assert.ok(root.verify(root.publicKey) && root.checkIssued(root));
      assert.ok(inter.verify(root.publicKey) && inter.checkIssued(root));
      assert.ok(leaf.verify(inter.publicKey) && leaf.checkIssued(inter));
      assert.ok(!leaf.verify(root.publicKey), 'the leaf is signed by the intermediate, not the root');
      assert.equal(leaf.subject, 'CN=*.s1.eu.hivemq.cloud');
      assert.match(leaf.subjectAltName, /DNS:\*\.s1\.eu\.hivemq\.cloud/);
      assert.equal(leaf.checkHost(TLS_CLUSTER_HOST), '*.s1.eu.hivemq.cloud');
      // the server sends leaf + intermediate, in that order
      assert.equal(pki.certPem, pki.leafPem + pki.intermediatePem);
      // valid at real time and at the rig's default network epoch (2025-01-01)
      for (const t of [Date.now(), Date.UTC(2025, 0, 1)]) {
        for (const c of [root, inter, leaf])
          assert.ok(Date.parse(c.validFrom) <= t && t <= Date.parse(c.validTo), `${c.subject} at ${new Date(t).toISOString()}`);
      }
      // the device's broker.ca: one PEM under the modem's / config's 3072-byte cap
      assert.ok(pki.rootPem.length < 3072, `${pki.rootPem.length} bytes`);
    });

    it('the variants: exact and wrong host names, expired, not yet valid, and a chain to another root', () => {
      const inter = new X509Certificate(pki.intermediatePem);
      const leafOf = (v) => new X509Certificate(pki.variants[v].leafPem);
      assert.equal(leafOf('exact').checkHost(TLS_CLUSTER_HOST), TLS_CLUSTER_HOST);
      assert.equal(leafOf('exact').checkHost('other.s1.eu.hivemq.cloud'), undefined);
      assert.equal(leafOf('wrongHost').checkHost(TLS_CLUSTER_HOST), undefined);
      assert.equal(leafOf('wrongHost').checkIP('127.0.0.1'), undefined);
      const now = Date.now();
      const exp = leafOf('expired');
      assert.ok(Date.parse(exp.validTo) < Math.min(now, Date.UTC(2025, 0, 1)));
      assert.ok(Date.parse(leafOf('notYetValid').validFrom) > now);
      for (const v of ['good', 'wildcard', 'exact', 'wrongHost', 'expired', 'notYetValid', 'leafOnly']) assert.ok(leafOf(v).verify(inter.publicKey), v);
      const other = pki.variants.unknownCa;
      assert.ok(!leafOf('unknownCa').verify(inter.publicKey));
      assert.ok(new X509Certificate(other.intermediatePem).verify(new X509Certificate(other.rootPem).publicKey));
      assert.notEqual(other.rootPem, pki.rootPem);
    });

    it('rootBits 2048 makes a 2048-bit root; other sizes are refused', () => {
      const p = makeChainPki({ rootBits: 2048 });
      assert.equal(new X509Certificate(p.rootPem).publicKey.asymmetricKeyDetails.modulusLength, 2048);
      assert.throws(() => makeChainPki({ rootBits: 3072 }), /rootBits/);
    });
  });

  describe('the good (HiveMQ-Cloud-like) server', () => {
    let good;
    before(async () => {
      good = await startGoodTlsServer();
    });
    after(() => good.close());

    it('handshakes with the cellpub-like client (root only as CA: the server sends the intermediate) and the broker answers CONNECT', async () => {
      const r = await mqttOverTls(cellpubClientOptions(good), { publish: { topic: 'cellpub/station-1/readings', payload: '{"t":21.5}' } });
      assert.ok(r.ok, r.code);
      assert.equal(r.connack.returnCode, 0);
      assert.deepEqual([r.protocol, r.cipher], ['TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256']);
      const ev = await good.broker.waitForEvent((e) => e.clientId === 'node-cellpub');
      assert.deepEqual(
        [ev.outcome, ev.servername, ev.tlsVersion, ev.cipher, ev.resumed],
        ['accepted', TLS_CLUSTER_HOST, 'TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256', false],
      );
      const [msg] = await good.broker.waitForReceived(1);
      assert.equal(msg.payload.toString(), '{"t":21.5}');
      // the reading crossed the wire encrypted
      assert.equal(good.proxy.sawPlaintext('{"t":21.5}'), false);
      assert.equal(good.proxy.sawPlaintext(TLS_TEST_USER.password), false);
    });

    it('sends leaf + intermediate, and signs the ServerKeyExchange with rsa_pkcs1_sha256 over X25519', async () => {
      const n = good.proxy.connections.length;
      const r = await handshake(cellpubClientOptions(good));
      assert.ok(r.ok, r.code);
      const peer = r.socket.getPeerCertificate(true);
      assert.equal(peer.subject.CN, '*.s1.eu.hivemq.cloud');
      assert.equal(peer.issuerCertificate.subject.CN, 'cellpub test ISRG-like R10');
      r.socket.destroy();
      const flight = Buffer.concat(good.proxy.connections[n].serverBytes);
      const f = findServerKeyExchange(flight);
      assert.equal(f.state, 'found');
      assert.deepEqual([f.ske.curve, f.ske.sigAlg, f.ske.pointLen, f.ske.sigLen], [0x001d, 0x0401, 32, 256]);
    });

    it('refuses a ClientHello without SNI with the alert unrecognized_name', async () => {
      const n = good.broker.events.length;
      const r = await handshake(cellpubClientOptions(good, { servername: undefined, checkServerIdentity: () => undefined }));
      assert.deepEqual([r.ok, r.code], [false, 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME']);
      assert.ok(good.broker.events.slice(n).some((e) => e.outcome === 'no-sni'));
    });

    it('the exact-name and wildcard leaves both work for the cluster host', async () => {
      for (const chain of ['exact', 'wildcard']) {
        const s = await startGoodTlsServer({ chain });
        try {
          const r = await handshake(cellpubClientOptions(s));
          assert.ok(r.ok, `${chain}: ${r.code}`);
          r.socket.destroy();
        } finally {
          await s.close();
        }
      }
    });

    it('a server sending the leaf alone fails a client that has only the root (the device needs the intermediate as anchor)', async () => {
      const s = await startGoodTlsServer({ chain: 'leafOnly' });
      try {
        const r = await handshake(cellpubClientOptions(s));
        assert.deepEqual([r.ok, r.code], [false, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
        const r2 = await handshake(cellpubClientOptions(s, { ca: [pki.rootPem, pki.intermediatePem] }));
        assert.ok(r2.ok, r2.code);
        r2.socket.destroy();
      } finally {
        await s.close();
      }
    });
  });

  describe('session resumption (observable as isSessionReused and the event field resumed)', () => {
    const cases = [
      { name: 'session ids and tickets (default)', opts: {}, reused: true },
      { name: 'session ids only', opts: { tickets: false }, reused: true },
      { name: 'tickets only', opts: { sessionIds: false }, reused: true },
      { name: 'neither', opts: { sessionIds: false, tickets: false }, reused: false },
    ];
    for (const c of cases) {
      it(`${c.name}: the second connection is ${c.reused ? '' : 'not '}resumed`, async () => {
        const s = await startGoodTlsServer({ brokerOptions: c.opts });
        try {
          const first = await mqttOverTls(cellpubClientOptions(s), { clientId: 'r1' });
          assert.ok(first.ok && first.session, 'a session to resume');
          assert.equal(first.reused, false);
          const second = await mqttOverTls(cellpubClientOptions(s, { session: first.session }), { clientId: 'r2' });
          assert.equal(second.connack.returnCode, 0);
          assert.equal(second.reused, c.reused);
          const ev = await s.broker.waitForEvent((e) => e.clientId === 'r2');
          assert.equal(ev.resumed, c.reused);
          // a resumed handshake has no ServerKeyExchange (no public-key operation on the device)
          const flight = Buffer.concat(s.proxy.connections.at(-1).serverBytes);
          assert.equal(findServerKeyExchange(flight).state, c.reused ? 'none' : 'found');
        } finally {
          await s.close();
        }
      });
    }
  });

  describe('bad servers: refused by the cellpub-like client, for the reason claimed', () => {
    // what lets the same client through, to show the refusal has that one cause
    const controls = {
      'wrong-host': { checkServerIdentity: () => undefined },
      'unknown-ca': (s) => ({ ca: s.pki.variants.unknownCa.rootPem }),
      expired: { rejectUnauthorized: false },
      'not-yet-valid': { rejectUnauthorized: false },
      'tls13-only': { maxVersion: 'TLSv1.3', sigalgs: undefined },
      'cipher-mismatch': { ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' },
    };
    for (const [kind, start] of Object.entries(BAD_SERVERS)) {
      it(`${kind}`, async () => {
        const s = await start();
        try {
          assert.ok(s.expect.node, 'an expected error code');
          const r = await mqttOverTls(cellpubClientOptions(s), { clientId: `bad-${kind}`, publish: { topic: 'x', payload: 'reading-42' } });
          assert.deepEqual([r.ok, r.code], [false, s.expect.node]);
          // nothing reached MQTT, nothing crossed in plaintext
          assert.ok(!s.broker.events.some((e) => e.outcome === 'accepted'), JSON.stringify(s.broker.events));
          assert.equal(s.broker.received.length, 0);
          assert.equal(s.proxy.sawPlaintext('reading-42'), false);
          assert.equal(s.proxy.sawPlaintext(TLS_TEST_USER.password), false);
          if (kind === 'tampered-ske') {
            assert.ok(s.proxy.connections[0].tampered, 'the proxy found and flipped the signature');
            return; // control: the untampered server through the same proxy (the good server's tests)
          }
          const c = controls[kind];
          const r2 = await handshake(cellpubClientOptions(s, typeof c === 'function' ? c(s) : c));
          assert.ok(r2.ok, `control for ${kind}: ${r2.code}`);
          r2.socket.destroy();
        } finally {
          await s.close();
        }
      });
    }

    it('tampered ServerKeyExchange point (not the signature): ERR_SSL_BAD_SIGNATURE', async () => {
      const s = await startTamperedSkeServer({ tamper: 'ske-point' });
      try {
        const r = await handshake(cellpubClientOptions(s));
        assert.deepEqual([r.ok, r.code], [false, 'ERR_SSL_BAD_SIGNATURE']);
        assert.equal(s.expect.node, 'ERR_SSL_BAD_SIGNATURE');
      } finally {
        await s.close();
      }
    });
  });

  describe('findServerKeyExchange', () => {
    it('finds the same ServerKeyExchange however the handshake is cut into records', async () => {
      const s = await startGoodTlsServer();
      let flight;
      try {
        const r = await handshake(cellpubClientOptions(s));
        assert.ok(r.ok, r.code);
        r.socket.destroy();
        flight = Buffer.concat(s.proxy.connections[0].serverBytes);
      } finally {
        await s.close();
      }
      // the handshake bytes up to the first non-handshake record
      const hsBytes = [];
      for (let off = 0; off + 5 <= flight.length && flight[off] === 22; off += 5 + flight.readUInt16BE(off + 3)) {
        hsBytes.push(flight.subarray(off + 5, off + 5 + flight.readUInt16BE(off + 3)));
      }
      const hs = Buffer.concat(hsBytes);
      const ref = findServerKeyExchange(flight);
      assert.equal(ref.state, 'found');
      const refSig = [flight[ref.ske.sigAt], flight[ref.ske.sigMid], flight[ref.ske.pointMid]];
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 40 }), (sizes) => {
          const recs = [];
          for (let p = 0, i = 0; p < hs.length; i++) {
            const n = Math.min(sizes[i % sizes.length], hs.length - p);
            recs.push(Buffer.from([22, 3, 3, n >> 8, n & 255]), hs.subarray(p, p + n));
            p += n;
          }
          const buf = Buffer.concat(recs);
          const got = findServerKeyExchange(buf);
          assert.equal(got.state, 'found');
          assert.deepEqual(
            [got.ske.curve, got.ske.sigAlg, got.ske.sigLen, got.ske.pointLen],
            [ref.ske.curve, ref.ske.sigAlg, ref.ske.sigLen, ref.ske.pointLen],
          );
          assert.deepEqual([buf[got.ske.sigAt], buf[got.ske.sigMid], buf[got.ske.pointMid]], refSig);
          // every prefix short of the signature's start asks for more
          assert.equal(findServerKeyExchange(buf.subarray(0, got.ske.sigAt - 4)).state, 'more');
        }),
        { numRuns: 100 },
      );
    });
  });
});
