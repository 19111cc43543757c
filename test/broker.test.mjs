// The test broker (host/broker): HiveMQ-Cloud-like TLS listener on a real Aedes.
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import net from 'node:net';
import { X509Certificate } from 'node:crypto';
import mqtt from 'mqtt';
import { makeTestPki, startBroker, subscribe, parseClientHello } from '../host/broker/index.mjs';

describe('broker.test.mjs', () => {
  const HOSTS = ['*.s1.eu.hivemq.cloud', 'broker.test'];
  const CLUSTER = 'abc123.s1.eu.hivemq.cloud';
  const USERS = { device1: 's3cret-pw' };

  let pki;
  let broker;

  before(async () => {
    pki = makeTestPki({ hosts: HOSTS });
    broker = await startBroker({ pki, users: USERS });
  });
  after(() => broker.close());

  /** mqtt.connectAsync with sane test defaults; never reconnects. */
  function connect(opts) {
    return mqtt.connectAsync({
      host: broker.host,
      port: broker.tlsPort,
      protocol: 'mqtts',
      ca: pki.caPem,
      servername: CLUSTER,
      username: 'device1',
      password: USERS.device1,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 3000,
      ...opts,
    });
  }

  /** connect that must fail; resolves with the error */
  async function connectFails(opts) {
    let client;
    try {
      client = await connect(opts);
    } catch (err) {
      return err;
    }
    await client.endAsync(true);
    assert.fail('connection was accepted');
  }

  /** a raw TLS handshake; resolves { ok, err, socket } */
  function handshake(opts) {
    return new Promise((resolve) => {
      const s = tls.connect({ host: broker.host, ca: pki.caPem, ...opts, port: opts.port ?? broker.tlsPort });
      s.once('secureConnect', () => resolve({ ok: true, socket: s }));
      s.once('error', (err) => resolve({ ok: false, err }));
      s.once('close', () => resolve({ ok: false, err: new Error('closed before handshake') }));
    });
  }

  it('test PKI: CA-signed server certificate with the wildcard, localhost and 127.0.0.1', () => {
    const cert = new X509Certificate(pki.certPem);
    const ca = new X509Certificate(pki.caPem);
    assert.ok(ca.ca, 'CA certificate is a CA');
    assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'server cert signed by the test CA');
    assert.equal(cert.checkHost(CLUSTER), '*.s1.eu.hivemq.cloud');
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkHost('evil.example'), undefined);
    assert.match(cert.publicKey.asymmetricKeyDetails.modulusLength.toString(), /^2048$/);
    // cached: same hosts (any order) give the same PKI without regenerating
    const again = makeTestPki({ hosts: [...HOSTS].reverse() });
    assert.equal(again.certPem, pki.certPem);
  });

  it('SNI + credentials + MQTT 3.1.1: QoS 1 publish reaches a subscriber', async () => {
    const sub = await subscribe(broker, 'cellpub/+/telemetry');
    const client = await connect({ clientId: 'dev-ok' });
    try {
      await client.publishAsync('cellpub/dev-ok/telemetry', '{"t":21.5}', { qos: 1 }); // resolves on PUBACK
      const [msg] = await sub.waitFor(1, 3000);
      assert.equal(msg.topic, 'cellpub/dev-ok/telemetry');
      assert.equal(msg.text, '{"t":21.5}');
      assert.equal(msg.qos, 1);
      const got = broker.received.find((m) => m.clientId === 'dev-ok');
      assert.ok(got, 'broker.received holds the publish');
      assert.equal(got.payload.toString(), '{"t":21.5}');
      assert.equal(got.qos, 1);
      const ev = broker.events.find((e) => e.clientId === 'dev-ok');
      assert.deepEqual(
        { servername: ev.servername, protocolVersion: ev.protocolVersion, username: ev.username, outcome: ev.outcome },
        { servername: CLUSTER, protocolVersion: 4, username: 'device1', outcome: 'accepted' },
      );
      assert.ok(
        broker.events.some((e) => e.internal && e.outcome === 'accepted'),
        'collector marked internal',
      );
      assert.ok(!JSON.stringify(broker.events).includes(USERS.device1), 'password never recorded');
    } finally {
      await client.endAsync();
      await sub.close();
    }
  });

  it('no SNI: refused during the TLS handshake with unrecognized_name', async () => {
    const before = broker.events.length;
    // host is an IP, no servername: Node sends no server_name extension
    const r = await handshake({ servername: undefined, rejectUnauthorized: false });
    assert.equal(r.ok, false, 'handshake must fail');
    assert.match(String(r.err && (r.err.code || r.err.message)), /UNRECOGNIZED_NAME|unrecognized name/i);
    const ev = broker.events.slice(before).find((e) => e.outcome === 'no-sni');
    assert.ok(ev, 'no-sni event recorded');
    assert.equal(ev.servername, null);

    // and an MQTT client without SNI never gets a session
    const err = await connectFails({ servername: undefined, rejectUnauthorized: false, clientId: 'dev-nosni' });
    assert.ok(err);
    assert.ok(!broker.events.some((e) => e.clientId === 'dev-nosni'), 'never reached MQTT');
  });

  it('wrong password → CONNACK 4, unknown user → 4, no credentials → 5', async () => {
    const wrong = await connectFails({ clientId: 'dev-badpw', password: 'nope' });
    assert.equal(wrong.code, 4, String(wrong));
    const unknown = await connectFails({ clientId: 'dev-nouser', username: 'mallory', password: 'x' });
    assert.equal(unknown.code, 4, String(unknown));
    const none = await connectFails({ clientId: 'dev-anon', username: undefined, password: undefined });
    assert.equal(none.code, 5, String(none));
    const ev = broker.events.find((e) => e.clientId === 'dev-badpw');
    assert.equal(ev.outcome, 'bad-credentials');
    assert.equal(ev.returnCode, 4);
    assert.equal(ev.servername, CLUSTER);
    assert.equal(broker.events.find((e) => e.clientId === 'dev-anon').outcome, 'not-authorized');
    assert.ok(!JSON.stringify(broker.events).includes('nope'), 'password never recorded');
  });

  it('MQTT 3.1 (protocol level 3) → CONNACK 1 unless allowed', async () => {
    const err = await connectFails({ clientId: 'dev-v3', protocolVersion: 3, protocolId: 'MQIsdp' });
    assert.equal(err.code, 1, String(err));
    const ev = broker.events.find((e) => e.clientId === 'dev-v3');
    assert.deepEqual(
      { protocolVersion: ev.protocolVersion, outcome: ev.outcome, returnCode: ev.returnCode, servername: ev.servername },
      { protocolVersion: 3, outcome: 'bad-protocol', returnCode: 1, servername: CLUSTER },
    );

    // control: the same client is accepted where level 3 is allowed
    const b3 = await startBroker({ pki, users: USERS, allowedProtocols: [3, 4] });
    try {
      const c = await mqtt.connectAsync({
        host: b3.host,
        port: b3.tlsPort,
        protocol: 'mqtts',
        ca: pki.caPem,
        servername: CLUSTER,
        username: 'device1',
        password: USERS.device1,
        protocolVersion: 3,
        protocolId: 'MQIsdp',
        clientId: 'dev-v3',
        reconnectPeriod: 0,
        connectTimeout: 3000,
      });
      await c.endAsync();
      assert.equal(b3.events.find((e) => e.clientId === 'dev-v3').outcome, 'accepted');
    } finally {
      await b3.close();
    }
  });

  it('TLS 1.0 client is refused (and would be accepted by a TLS 1.0 server)', async () => {
    const old = { servername: CLUSTER, minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' };
    const before = broker.events.length;
    const r = await handshake(old);
    assert.equal(r.ok, false, 'TLS 1.0 handshake must fail');
    const ev = broker.events.slice(before).find((e) => e.outcome === 'tls-error');
    assert.ok(ev, 'tls-error event recorded');
    assert.equal(ev.servername, CLUSTER);

    const modern = await handshake({ servername: CLUSTER });
    assert.equal(modern.ok, true, String(modern.err));
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(modern.socket.getProtocol()));
    modern.socket.destroy();

    // control: proves the refusal comes from the server's minimum version, not from this client
    const lax = await startBroker({ pki, users: USERS, tlsMinVersion: 'TLSv1' });
    try {
      const ok = await handshake({ ...old, port: lax.tlsPort });
      assert.equal(ok.ok, true, String(ok.err));
      assert.equal(ok.socket.getProtocol(), 'TLSv1');
      ok.socket.destroy();
    } finally {
      await lax.close();
    }
  });

  it('plain listener (opt-in) still checks credentials; absent by default', async () => {
    assert.equal(broker.plainPort, null);
    const b = await startBroker({ pki, users: USERS, plain: true });
    try {
      const ok = await mqtt.connectAsync({
        host: b.host,
        port: b.plainPort,
        username: 'device1',
        password: USERS.device1,
        clientId: 'plain-ok',
        reconnectPeriod: 0,
        connectTimeout: 3000,
      });
      await ok.endAsync();
      const ev = b.events.find((e) => e.clientId === 'plain-ok');
      assert.equal(ev.transport, 'plain');
      assert.equal(ev.outcome, 'accepted');
      await assert.rejects(
        mqtt.connectAsync({ host: b.host, port: b.plainPort, username: 'device1', password: 'x', reconnectPeriod: 0 }),
        (err) => err.code === 4,
      );
    } finally {
      await b.close();
    }
  });

  it('parseClientHello: needs the whole hello, finds SNI, rejects non-TLS', () => {
    assert.deepEqual(parseClientHello(Buffer.from([0x16, 0x03, 0x01])), { done: false });
    assert.equal(parseClientHello(Buffer.from('\x10\x0c\x00\x04MQTT', 'latin1')).tls, false);
    // minimal hand-made ClientHello carrying server_name "a.b"
    const name = Buffer.from('a.b');
    const sni = Buffer.concat([Buffer.from([0, 0, 0, name.length + 5, 0, name.length + 3, 0, 0, name.length]), name]);
    const body = Buffer.concat([
      Buffer.from([3, 3]),
      Buffer.alloc(32),
      Buffer.from([0]),
      Buffer.from([0, 2, 0x13, 0x01]),
      Buffer.from([1, 0]),
      Buffer.from([0, sni.length]),
      sni,
    ]);
    const hs = Buffer.concat([Buffer.from([1, 0, 0, body.length]), body]);
    const rec = Buffer.concat([Buffer.from([0x16, 3, 1, 0, hs.length]), hs]);
    assert.deepEqual(parseClientHello(rec.subarray(0, rec.length - 1)), { done: false });
    assert.equal(parseClientHello(rec).servername, 'a.b');
  });

  // ---------- faults (host/testing/faults.mjs uses these) ----------

  it('received: a QoS 1 PUBLISH is acked once its PUBACK is written; withholdPubacks() keeps taking PUBLISHes but never acknowledges them', async () => {
    const b = await startBroker({ pki, users: USERS, plain: true });
    const client = await mqtt.connectAsync({
      host: b.host,
      port: b.plainPort,
      username: 'device1',
      password: USERS.device1,
      clientId: 'dev-ack',
      reconnectPeriod: 0,
    });
    try {
      await client.publishAsync('t/ack', 'one', { qos: 1 });
      await client.publishAsync('t/ack', 'zero', { qos: 0 });
      await b.waitForReceived(2, 2000);
      assert.deepEqual(
        b.received.map((m) => [m.payload.toString(), m.acked]),
        [
          ['one', true],
          ['zero', null],
        ],
      );
      b.withholdPubacks(true);
      assert.equal(b.withholding, true);
      let acked = false;
      client.publish('t/ack', 'two', { qos: 1 }, () => (acked = true));
      await b.waitForReceived(3, 2000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(acked, false, 'no PUBACK while withheld');
      const two = b.received.at(-1);
      assert.deepEqual([two.payload.toString(), two.acked, two.withheld], ['two', false, true]);
      assert.equal(b.pubacks.withheld, 1);
      b.withholdPubacks(false);
      await client.publishAsync('t/ack', 'three', { qos: 1 }); // acknowledged again
      assert.equal(b.received.at(-1).acked, true);
      assert.equal(acked, false, 'the withheld PUBACK is never sent later');
      // ping and other packets still flow: the connection works
      await client.subscribeAsync('t/#', { qos: 1 });
    } finally {
      await client.endAsync(true);
      await b.close();
    }
  });

  it('restart: connections cut without a will, the same ports refuse while down, then accept; onStart runs; the helper subscriber reconnects', async () => {
    let now = 0;
    const clock = { now: () => now, hold: () => () => {}, setTimeout: (fn, ms) => setTimeout(fn, ms) };
    const b = await startBroker({ pki, users: USERS, plain: true, clock });
    const sub = await subscribe(b, '#', { servername: CLUSTER });
    const port = { tls: b.tlsPort, plain: b.plainPort };
    const opts = { host: b.host, port: b.plainPort, username: 'device1', password: USERS.device1, reconnectPeriod: 0, connectTimeout: 2000 };
    const dev = await mqtt.connectAsync({ ...opts, clientId: 'dev-restart', will: { topic: 'will/dev', payload: 'gone', qos: 1, retain: false } });
    let closed = false;
    dev.on('close', () => (closed = true));
    dev.on('error', () => {});
    let starts = 0;
    b.onStart(() => {
      starts++;
    });
    try {
      now = 1000;
      await b.stop();
      assert.equal(b.isDown, true);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(closed, true, 'the device connection is cut');
      const refused = await new Promise((resolve) => {
        const s = net.connect(port.plain, b.host);
        s.on('connect', () => (s.destroy(), resolve('connected')));
        s.on('error', (e) => resolve(e.code));
      });
      assert.equal(refused, 'ECONNREFUSED');
      now = 61000;
      await b.start();
      assert.equal(b.isDown, false);
      assert.equal(starts, 1);
      await sub.reconnect();
      assert.deepEqual([b.tlsPort, b.plainPort], [port.tls, port.plain], 'same ports');
      assert.deepEqual(b.restarts, [{ stoppedAt: 1000, startedAt: 61000 }]);
      const again = await mqtt.connectAsync({ ...opts, clientId: 'dev-restart' });
      await again.publishAsync('after/restart', 'x', { qos: 1 });
      await again.endAsync();
      const msgs = await sub.waitFor(1, 2000);
      assert.deepEqual(
        msgs.map((m) => m.topic),
        ['after/restart'],
        'no will was published; the subscriber sees new messages',
      );
      assert.equal(b.received.at(-1).at, 61000, 'received carries the clock time');
      assert.ok(!b.received.some((m) => m.topic === 'will/dev'), 'a dead broker publishes no will');
    } finally {
      dev.end(true);
      await sub.close().catch(() => {});
      await b.close();
    }
  });
});
