// The Azure-IoT-Hub-like device endpoint (host/broker/azure.mjs), driven by a plain mqtt.js client
// acting as the device over TLS with SNI. The hub's clock is the *virtual* clock, so SAS expiry
// and method timeouts are tested by moving virtual time, not by waiting.
import { describe, it, before, after } from 'mocha';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import mqtt from 'mqtt';
import { makeTestPki } from '../host/broker/index.mjs';
import { startAzureHub, parsePropertyBag } from '../host/broker/azure.mjs';
import { createClock } from '../host/runtime/clock.mjs';

describe('azure-hub.test.mjs', () => {
  const { SharedAccessSignature } = createRequire(import.meta.url)('azure-iot-common');

  const HUB = 'cellpub-test';
  const HOST = `${HUB}.azure-devices.net`;
  const API = '2021-04-12';
  const key = () => randomBytes(32).toString('base64');
  const KEYS = { dev1: { primaryKey: key(), secondaryKey: key() }, dev2: { primaryKey: key() }, dev3: { primaryKey: key() } };
  const NETWORK_EPOCH = Date.UTC(2025, 7, 22, 12, 0, 0); // hub time when the virtual clock reads 0

  let pki;
  let hub;
  let clock;
  const clients = new Set();

  before(async () => {
    pki = makeTestPki({ hosts: ['*.azure-devices.net'] });
    clock = createClock({ mode: 'virtual' });
    hub = await startAzureHub({ pki, hub: HUB, devices: KEYS, now: () => NETWORK_EPOCH + clock.now() });
  });
  after(async () => {
    for (const c of clients) c.end(true);
    await hub.close();
  });

  const hubSeconds = () => Math.floor((NETWORK_EPOCH + clock.now()) / 1000);

  /** A device SAS token computed here with Node's crypto (independently of the hub's code). */
  function sas(deviceId, { k = KEYS[deviceId]?.primaryKey ?? key(), ttl = 3600, se = hubSeconds() + ttl, resource = `${HOST}/devices/${deviceId}`, skn } = {}) {
    const sr = encodeURIComponent(resource);
    const sig = createHmac('sha256', Buffer.from(k, 'base64')).update(`${sr}\n${se}`).digest('base64');
    return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}${skn ? `&skn=${skn}` : ''}`;
  }

  const username = (id, host = HOST) => `${host}/${id}/?api-version=${API}`;

  function options(id, opts = {}) {
    return {
      host: hub.host,
      port: hub.tlsPort,
      protocol: 'mqtts',
      ca: pki.caPem,
      servername: HOST,
      clientId: id,
      username: username(id),
      password: sas(id),
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 3000,
      keepalive: 60,
      ...opts,
    };
  }

  /** mqtt.connectAsync, but failing after `ms` of real time: it never settles when the server
   * closes the socket before any CONNACK (reconnectPeriod 0), which would hang a test. */
  function connectAsync(opts, ms = 5000) {
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no CONNACK within ${ms} ms (connection closed?)`)), ms);
    });
    return Promise.race([mqtt.connectAsync(opts), limit]).finally(() => clearTimeout(timer));
  }

  async function connect(id, opts) {
    const c = await connectAsync(options(id, opts));
    clients.add(c);
    return c;
  }

  /** connect that must be refused; resolves with the error (err.code = CONNACK return code) */
  async function refused(id, opts) {
    let c;
    try {
      c = await connectAsync(options(id, opts));
    } catch (err) {
      return err;
    }
    await c.endAsync(true);
    assert.fail(`connection of ${id} was accepted`);
  }

  const closed = (c, ms = 3000) =>
    new Promise((resolve, reject) => {
      if (!c.connected && c.disconnected) return resolve();
      const t = setTimeout(() => reject(new Error('client was not disconnected')), ms);
      c.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });

  function nextMessage(c, pred = () => true, ms = 3000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        c.removeListener('message', on);
        reject(new Error('no message'));
      }, ms);
      const on = (topic, payload, packet) => {
        if (!pred(topic)) return;
        clearTimeout(t);
        c.removeListener('message', on);
        resolve({ topic, text: payload.toString('utf8'), qos: packet.qos, retain: packet.retain });
      };
      c.on('message', on);
    });
  }

  const lastEvent = (pred) => hub.events.filter(pred).at(-1);
  const connectEvent = (id) => lastEvent((e) => e.kind === 'connect' && e.clientId === id);

  it('SAS computed here equals azure-iot-common SharedAccessSignature.create, and the hub accepts it', async () => {
    const se = hubSeconds() + 600;
    const mine = sas('dev1', { se });
    const theirs = SharedAccessSignature.create(encodeURIComponent(`${HOST}/devices/dev1`), null, KEYS.dev1.primaryKey, se).toString();
    assert.equal(mine, theirs);
    const c = await connect('dev1', { password: theirs });
    assert.ok(hub.connected('dev1'));
    await c.endAsync();
    await hub.waitFor(() => !hub.connected('dev1'));
  });

  it('good connect: TLS 1.2 with SNI, api-version and key recorded, token never recorded; telemetry with property bag', async () => {
    const token = sas('dev1');
    const c = await connect('dev1', { password: token });
    const ev = connectEvent('dev1');
    assert.equal(ev.outcome, 'accepted');
    assert.equal(ev.returnCode, 0);
    assert.equal(ev.servername, HOST);
    assert.equal(ev.tlsVersion, 'TLSv1.2');
    assert.equal(ev.apiVersion, API);
    assert.equal(ev.key, 'primary');
    assert.equal(ev.auth, 'sas');

    await c.publishAsync('devices/dev1/messages/events/$.ct=application%2Fjson&$.ce=utf-8&site=desk%201', '{"t":21.5}', { qos: 1 });
    await c.publishAsync('devices/dev1/messages/events/', 'plain', { qos: 0, retain: true });
    await hub.waitFor(() => hub.telemetry.filter((m) => m.deviceId === 'dev1').length >= 2);
    const [m1, m2] = hub.telemetry.filter((m) => m.deviceId === 'dev1').slice(-2);
    assert.deepEqual(m1.properties, { '$.ct': 'application/json', '$.ce': 'utf-8', site: 'desk 1' });
    assert.equal(m1.payload, '{"t":21.5}');
    assert.equal(m1.qos, 1);
    assert.equal(m1.time, NETWORK_EPOCH + clock.now(), 'telemetry time is hub (virtual) time');
    assert.deepEqual(m2.properties, { 'mqtt-retain': 'true' }, 'retain is not stored, it becomes a property');

    const all = JSON.stringify(hub.events);
    assert.ok(!all.includes('SharedAccessSignature') && !all.includes(token.split('sig=')[1].split('&')[0]), 'no token in events');
    assert.ok(!all.includes(KEYS.dev1.primaryKey) && !all.includes(KEYS.dev1.secondaryKey), 'no key in events');
    await c.endAsync();
    await hub.waitFor(() => !hub.connected('dev1'));

    // the secondary key works as well
    const c2 = await connect('dev1', { password: sas('dev1', { k: KEYS.dev1.secondaryKey }) });
    assert.equal(connectEvent('dev1').key, 'secondary');
    await c2.endAsync();
  });

  it('refusals: CONNACK 5 with a clear outcome for every authentication failure; MQTT 3.1 → 1', async () => {
    const cases = [
      ['unknown device', 'ghost', {}, 'unknown-device'],
      ['username of another hub', 'dev2', { username: username('dev2', 'other.azure-devices.net') }, 'bad-username'],
      ['username without api-version', 'dev2', { username: `${HOST}/dev2/` }, 'bad-username'],
      ['username of another device', 'dev2', { username: username('dev1') }, 'bad-username'],
      ['signed with a wrong key', 'dev2', { password: sas('dev2', { k: key() }) }, 'bad-sas-signature'],
      ['signed with another device key', 'dev2', { password: sas('dev2', { k: KEYS.dev1.primaryKey }) }, 'bad-sas-signature'],
      ['expired token', 'dev2', { password: sas('dev2', { ttl: -1 }) }, 'sas-expired'],
      ['token expiring this very second', 'dev2', { password: sas('dev2', { se: Math.ceil((NETWORK_EPOCH + clock.now()) / 1000) }) }, 'sas-expired'],
      ['skn with a device key', 'dev2', { password: sas('dev2', { skn: 'device' }) }, 'sas-skn-with-device-key'],
      ['sr of another device', 'dev2', { password: sas('dev2', { resource: `${HOST}/devices/dev1` }) }, 'bad-sas-resource'],
      ['sr without /devices/', 'dev2', { password: sas('dev2', { resource: HOST }) }, 'bad-sas-resource'],
      ['not a SAS token', 'dev2', { password: 'hunter2' }, 'bad-sas-format'],
      ['no password', 'dev2', { password: undefined }, 'no-password'],
    ];
    for (const [what, id, opts, outcome] of cases) {
      const n = hub.events.length;
      const err = await refused(id, opts);
      assert.equal(err.code, 5, `${what}: CONNACK 5 (got ${err.code}: ${err.message})`);
      const ev = hub.events.slice(n).find((e) => e.kind === 'connect');
      assert.equal(ev.outcome, outcome, what);
      assert.equal(ev.returnCode, 5, what);
    }
    assert.equal(hub.connected('dev2'), false);

    const err = await refused('dev2', { protocolVersion: 3, protocolId: 'MQIsdp' });
    assert.equal(err.code, 1);
    assert.equal(connectEvent('dev2').outcome, 'bad-protocol');

    // fields in another order, host part in upper case: still fine
    const se = hubSeconds() + 60;
    const sr = encodeURIComponent(`${HOST.toUpperCase()}/devices/dev2`);
    const sig = encodeURIComponent(createHmac('sha256', Buffer.from(KEYS.dev2.primaryKey, 'base64')).update(`${sr}\n${se}`).digest('base64'));
    const c = await connect('dev2', { password: `SharedAccessSignature se=${se}&sig=${sig}&sr=${sr}` });
    await c.endAsync();
    assert.ok(!JSON.stringify(hub.events).includes('hunter2'), 'passwords never recorded');
  });

  it('TLS: no SNI refused during the handshake; TLS 1.3-only client refused', async () => {
    const n = hub.events.length;
    const r = await new Promise((resolve) => {
      const s = tls.connect({ host: hub.host, port: hub.tlsPort, ca: pki.caPem, checkServerIdentity: () => undefined });
      s.once('secureConnect', () => resolve({ ok: true, s }));
      s.once('error', (err) => resolve({ ok: false, err }));
    });
    assert.equal(r.ok, false);
    assert.match(String(r.err.code || r.err.message), /UNRECOGNIZED_NAME|unrecognized name|ECONNRESET/i);
    assert.ok(hub.events.slice(n).some((e) => e.outcome === 'no-sni'));

    const r13 = await new Promise((resolve) => {
      const s = tls.connect({ host: hub.host, port: hub.tlsPort, ca: pki.caPem, servername: HOST, minVersion: 'TLSv1.3' });
      s.once('secureConnect', () => resolve({ ok: true, s }));
      s.once('error', (err) => resolve({ ok: false, err }));
    });
    assert.equal(r13.ok, false, 'TLS 1.3 is not offered');
  });

  it('token expiry mid-session: the hub drops the connection on its (virtual) clock', async () => {
    const c = await connect('dev3', { password: sas('dev3', { ttl: 30 }) });
    assert.ok(hub.connected('dev3'));
    const gone = closed(c);
    await clock.runFor(20000);
    hub.checkExpiry();
    assert.ok(hub.connected('dev3'), 'still valid after 20 s');
    await clock.runFor(10000);
    hub.checkExpiry(); // forced check: synchronous
    assert.equal(hub.connected('dev3'), false);
    await gone;
    assert.equal(lastEvent((e) => e.kind === 'disconnect' && e.deviceId === 'dev3').reason, 'sas-expired');

    // the host interval notices it too, without checkExpiry()
    const c2 = await connect('dev3', { password: sas('dev3', { ttl: 5 }) });
    const gone2 = closed(c2);
    await clock.runFor(6000);
    await gone2;
    assert.equal(lastEvent((e) => e.kind === 'disconnect' && e.deviceId === 'dev3').reason, 'sas-expired');
  });

  it('PUBLISH with QoS 2 closes the connection', async () => {
    const c = await connect('dev2');
    const gone = closed(c);
    const n = hub.telemetry.length;
    c.publish('devices/dev2/messages/events/', 'x', { qos: 2 });
    await gone;
    assert.equal(lastEvent((e) => e.kind === 'disconnect' && e.deviceId === 'dev2').reason, 'qos2-publish');
    assert.equal(hub.telemetry.length, n, 'nothing recorded');
  });

  it('publishing to an undocumented topic closes the connection', async () => {
    for (const topic of ['cellpub/dev2/telemetry', 'devices/dev1/messages/events/', 'devices/dev2/messages/events', '$iothub/twin/GET/']) {
      const c = await connect('dev2');
      const gone = closed(c);
      c.publish(topic, 'x', { qos: 1 });
      await gone;
      const ev = lastEvent((e) => e.kind === 'disconnect' && e.deviceId === 'dev2');
      assert.equal(ev.reason, 'bad-topic', topic);
      assert.equal(ev.detail, topic);
    }
  });

  it('SUBSCRIBE: undocumented filters get 0x80, QoS 2 is granted as 1, the connection stays', async () => {
    const c = await connect('dev2');
    // mqtt.js turns a SUBACK with 0x80 into an error, so read the SUBACK packet itself
    const suback = new Promise((resolve) => c.on('packetreceive', (p) => p.cmd === 'suback' && resolve(p)));
    c.subscribe(
      {
        'devices/dev2/messages/devicebound/#': { qos: 2 },
        '$iothub/twin/res/#': { qos: 0 },
        '#': { qos: 1 },
        'devices/dev1/messages/devicebound/#': { qos: 1 },
        '$iothub/methods/POST/reboot': { qos: 1 },
      },
      () => {},
    );
    const { granted } = await suback;
    const byTopic = Object.fromEntries(
      hub.events
        .filter((e) => e.kind === 'subscribe' && e.deviceId === 'dev2')
        .slice(-5)
        .map((e) => [e.topic, e.granted]),
    );
    assert.deepEqual(granted, [1, 0, 128, 128, 128]);
    assert.deepEqual(byTopic, {
      'devices/dev2/messages/devicebound/#': 1,
      '$iothub/twin/res/#': 0,
      '#': 128,
      'devices/dev1/messages/devicebound/#': 128,
      '$iothub/methods/POST/reboot': 128,
    });
    assert.ok(hub.connected('dev2'));
    await c.endAsync();
  });

  it('twin: GET and reported PATCH round trip with versions; malformed body → 400', async () => {
    const c = await connect('dev1');
    await c.subscribeAsync('$iothub/twin/res/#', { qos: 1 });
    const isRes = (rid) => (t) => t.startsWith('$iothub/twin/res/') && t.includes(`$rid=${rid}`);

    let res = nextMessage(c, isRes('g1'));
    await c.publishAsync('$iothub/twin/GET/?$rid=g1', '', { qos: 1 });
    let m = await res;
    assert.equal(m.topic, '$iothub/twin/res/200/?$rid=g1');
    const v0 = JSON.parse(m.text);
    assert.deepEqual(Object.keys(v0).sort(), ['desired', 'reported']);
    const rv = v0.reported.$version;

    res = nextMessage(c, isRes('p1'));
    await c.publishAsync('$iothub/twin/PATCH/properties/reported/?$rid=p1', JSON.stringify({ fw: '1.0', net: { rssi: -70, op: 'x' } }), { qos: 0 });
    m = await res;
    assert.equal(m.topic, `$iothub/twin/res/204/?$rid=p1&$version=${rv + 1}`);
    assert.equal(m.text, '');

    res = nextMessage(c, isRes('p2'));
    await c.publishAsync('$iothub/twin/PATCH/properties/reported/?$rid=p2', JSON.stringify({ fw: null, net: { op: null } }), { qos: 1 });
    m = await res;
    assert.equal(m.topic, `$iothub/twin/res/204/?$rid=p2&$version=${rv + 2}`);

    res = nextMessage(c, isRes('g2'));
    await c.publishAsync('$iothub/twin/GET/?$rid=g2', '', { qos: 0 });
    m = await res;
    assert.deepEqual(JSON.parse(m.text).reported, { net: { rssi: -70 }, $version: rv + 2 });
    assert.deepEqual(hub.twins.dev1.reported, { net: { rssi: -70 }, $version: rv + 2 });

    for (const [rid, body] of [
      ['b1', '{not json'],
      ['b2', '[1,2]'],
    ]) {
      res = nextMessage(c, isRes(rid));
      await c.publishAsync(`$iothub/twin/PATCH/properties/reported/?$rid=${rid}`, body, { qos: 1 });
      m = await res;
      assert.equal(m.topic, `$iothub/twin/res/400/?$rid=${rid}`);
    }
    assert.equal(hub.twins.dev1.reported.$version, rv + 2, 'a rejected patch changes nothing');
    await c.endAsync();
  });

  it('desired properties: updateDesired merges, bumps $version and pushes patch + $version', async () => {
    const c = await connect('dev1');
    await c.subscribeAsync('$iothub/twin/PATCH/properties/desired/#', { qos: 1 });
    const v = hub.twins.dev1.desired.$version;
    const got = nextMessage(c, (t) => t.startsWith('$iothub/twin/PATCH/properties/desired/'));
    assert.equal(hub.updateDesired('dev1', { interval: 300, led: { on: true } }), v + 1);
    const m = await got;
    assert.equal(m.topic, `$iothub/twin/PATCH/properties/desired/?$version=${v + 1}`);
    assert.deepEqual(JSON.parse(m.text), { interval: 300, led: { on: true }, $version: v + 1 });
    assert.equal(m.qos, 1);

    const got2 = nextMessage(c, (t) => t.startsWith('$iothub/twin/PATCH/properties/desired/'));
    hub.updateDesired('dev1', { led: null });
    assert.deepEqual(JSON.parse((await got2).text), { led: null, $version: v + 2 });
    assert.deepEqual(hub.twins.dev1.desired, { interval: 300, $version: v + 2 });
    await c.endAsync();

    // a device that is not subscribed is not notified, the version still moves
    const vv = hub.twins.dev2.desired.$version;
    hub.updateDesired('dev2', { x: 1 });
    assert.equal(hub.twins.dev2.desired.$version, vv + 1);
    assert.equal(lastEvent((e) => e.kind === 'twin' && e.deviceId === 'dev2').pushed, false);
  });

  it('direct methods: round trip, 504 on timeout (hub time), 404 when not subscribed', async () => {
    const c = await connect('dev1');
    await c.subscribeAsync('$iothub/methods/POST/#', { qos: 0 });
    let requests = [];
    c.on('message', (topic, payload) => {
      const m = /^\$iothub\/methods\/POST\/([^/]+)\/\?\$rid=(.+)$/.exec(topic);
      if (!m) return;
      requests.push({ name: m[1], rid: m[2], body: payload.toString() });
      if (m[1] === 'reboot') c.publish(`$iothub/methods/res/202/?$rid=${m[2]}`, JSON.stringify({ inSeconds: 5 }), { qos: 1 });
    });
    const r = await hub.invokeMethod('dev1', 'reboot', { delay: 5 }, { timeoutMs: 10000 });
    assert.deepEqual(r, { status: 202, payload: { inSeconds: 5 } });
    assert.equal(requests[0].body, '{"delay":5}');
    assert.match(requests[0].rid, /^[0-9a-f]+$/);

    requests = [];
    const p = hub.invokeMethod('dev1', 'ignored', null, { timeoutMs: 5000 });
    let settled = null;
    const outcome = p.then(
      () => (settled = 'resolved'),
      (err) => (settled = err.status),
    );
    await hub.waitFor(() => requests.length === 1);
    await clock.runFor(4000);
    hub.checkExpiry();
    await new Promise((res) => setTimeout(res, 150)); // real time: the hub's own interval ticks too
    assert.equal(settled, null, 'not timed out after 4 s of hub time');
    await clock.runFor(1001);
    hub.checkExpiry();
    const late = new Promise((res) => setTimeout(() => res('still pending'), 2000));
    assert.equal(await Promise.race([outcome, late]), 504);
    // a late answer is ignored, the connection stays
    c.publish(`$iothub/methods/res/200/?$rid=${requests[0].rid}`, '{}', { qos: 1 });
    await new Promise((res) => setTimeout(res, 100));
    assert.ok(hub.connected('dev1'));
    await c.endAsync();

    await assert.rejects(hub.invokeMethod('dev1', 'reboot'), (err) => err.status === 404);
  });

  it('C2D: long property-bag topic, delivered at QoS 1, queued while offline, completed by PUBACK', async () => {
    const queued = hub.sendC2D('dev2', '{"cmd":"early"}', { '$.ct': 'application/json' });
    assert.equal(hub.c2dQueue('dev2').length, 1, 'kept while dev2 is offline');

    const c = await connect('dev2');
    const early = nextMessage(c, (t) => t.startsWith('devices/dev2/messages/devicebound/'));
    await c.subscribeAsync('devices/dev2/messages/devicebound/#', { qos: 1 });
    const m0 = await early;
    assert.equal(m0.topic, queued.topic);
    assert.equal(m0.text, '{"cmd":"early"}');

    const got = nextMessage(c, (t) => t.startsWith('devices/dev2/messages/devicebound/') && t !== queued.topic);
    const { messageId, topic } = hub.sendC2D('dev2', 'reboot now', { cmd: 'reboot', flag: null, '$.cid': 'corr-1' });
    const m = await got;
    assert.equal(m.topic, topic);
    assert.ok(Buffer.byteLength(m.topic) > 100, `topic is long (${Buffer.byteLength(m.topic)} bytes)`);
    assert.ok(m.topic.startsWith(`devices/dev2/messages/devicebound/%24.mid=${messageId}&%24.to=%2Fdevices%2Fdev2%2Fmessages%2FdeviceBound&`));
    assert.equal(m.qos, 1);
    assert.equal(m.text, 'reboot now');
    const props = parsePropertyBag(m.topic.slice('devices/dev2/messages/devicebound/'.length));
    assert.deepEqual(props, { '$.mid': messageId, '$.to': '/devices/dev2/messages/deviceBound', cmd: 'reboot', flag: null, '$.cid': 'corr-1' });
    await hub.waitFor(() => hub.c2dQueue('dev2').length === 0);
    await c.endAsync();

    // CleanSession 0: the subscription outlives the connection; a message sent while offline
    // arrives after the next CleanSession 0 connect without subscribing again [MQTT]
    const d1 = await connect('dev2', { clean: false });
    await d1.subscribeAsync('devices/dev2/messages/devicebound/#', { qos: 1 });
    await d1.endAsync();
    await hub.waitFor(() => !hub.connected('dev2'));
    const offline = hub.sendC2D('dev2', 'while you were out');
    const d2 = mqtt.connect(options('dev2', { clean: false }));
    clients.add(d2);
    const connack = new Promise((resolve) => d2.once('connect', resolve));
    const later = nextMessage(d2, (t) => t === offline.topic);
    assert.equal((await connack).sessionPresent, true);
    assert.equal((await later).text, 'while you were out');
    await d2.endAsync();
  });

  it('a second connection for the same device drops the first', async () => {
    const c1 = await connect('dev2');
    const gone = closed(c1);
    const c2 = await connect('dev2');
    await gone;
    assert.equal(lastEvent((e) => e.kind === 'disconnect' && e.deviceId === 'dev2').reason, 'replaced');
    assert.ok(hub.connected('dev2'));
    await c2.publishAsync('devices/dev2/messages/events/', 'still here', { qos: 1 });
    assert.equal(hub.telemetry.at(-1).payload, 'still here');
    await c2.endAsync();
  });

  it('X.509 device: client certificate naming the device (or its thumbprint) instead of a SAS token', async () => {
    const { default: forge } = await import('node-forge');
    const { generateKeyPairSync, X509Certificate } = await import('node:crypto');
    const selfSigned = (cn) => {
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const k = forge.pki.privateKeyFromPem(privateKey);
      const cert = forge.pki.createCertificate();
      cert.publicKey = forge.pki.setRsaPublicKey(k.n, k.e);
      cert.serialNumber = '01';
      cert.validity.notBefore = new Date(NETWORK_EPOCH - 86400e3);
      cert.validity.notAfter = new Date(NETWORK_EPOCH + 365 * 86400e3);
      cert.setSubject([{ name: 'commonName', value: cn }]);
      cert.setIssuer([{ name: 'commonName', value: cn }]);
      cert.sign(k, forge.md.sha256.create());
      return { cert: forge.pki.certificateToPem(cert), key: privateKey };
    };
    const a = selfSigned('devx');
    const b = selfSigned('something-else');
    const thumbprint = new X509Certificate(b.cert).fingerprint; // SHA-1, as the portal shows it
    const hub2 = await startAzureHub({
      pki,
      hub: HUB,
      devices: { devx: { x509: true }, devt: { x509: { thumbprint } } },
      now: () => NETWORK_EPOCH + clock.now(),
    });
    const opts = (id, extra) => ({ ...options(id), port: hub2.tlsPort, password: undefined, ...extra });
    try {
      const c = await connectAsync(opts('devx', { cert: a.cert, key: a.key }));
      assert.equal(hub2.events.at(-1).auth, 'x509');
      assert.ok(hub2.connected('devx'));
      await c.endAsync();
      const c2 = await connectAsync(opts('devt', { cert: b.cert, key: b.key }));
      await c2.endAsync();
      for (const [id, extra, outcome] of [
        ['devx', {}, 'x509-no-cert'],
        ['devx', { cert: b.cert, key: b.key }, 'x509-mismatch'],
        ['devt', { cert: a.cert, key: a.key }, 'x509-mismatch'],
      ]) {
        const err = await connectAsync(opts(id, extra)).then(
          (cl) => (cl.end(true), assert.fail('accepted')),
          (e) => e,
        );
        assert.equal(err.code, 5, `${id} ${outcome}`);
        assert.equal(hub2.events.filter((e) => e.kind === 'connect').at(-1).outcome, outcome);
      }
    } finally {
      await hub2.close();
    }
  });
});
