// An Azure-IoT-Hub-like MQTT device endpoint for tests: what the firmware meets at
// `{hub}.azure-devices.net:8883`. Unlike index.mjs (a general broker, Aedes) IoT Hub is *not* a
// general broker: fixed per-device topics, no routing between clients, twin/method/C2D services
// behind them. So this is a small MQTT 3.1.1 server of its own on mqtt-packet, speaking only what
// IoT Hub speaks. Sources, cited below by tag:
//   [MF]   docs/modem-facts.md §D.2 (our digest of the IoT Hub facts)
//   [MQTT] MicrosoftDocs/azure-docs articles/iot/iot-mqtt-connect-to-iot-hub.md
//          ("Communicate with an IoT hub using the MQTT protocol")
//   [SAS]  MicrosoftDocs/azure-docs articles/iot-hub/iot-hub-dev-guide-sas.md, and the SAS code of
//          azure-iot-common (dist/shared_access_signature.js, dist/authorization.js)
//   [ERR]  learn.microsoft.com/azure/iot-hub/troubleshoot-error-codes (401003 IoTHubUnauthorized,
//          400027 ConnectionForcefullyClosedOnNewConnection, 404104, 404103, 504101)
//   [RC5]  field reports of the CONNACK code IoT Hub sends on failed authentication: always 0x05
//          "not authorized" — Azure/azure-iot-sdk-c#373 and #806 (umqtt trace
//          "<- CONNACK | RETURN_CODE: 0x5"), MicrosoftDocs/azure-docs#38897 and #31040 (paho rc 5
//          with a bad SAS), Azure/azure-iot-cli-extension#80 (unknown device id → "not authorised").
//   [LG]   test/fixtures/transcripts/a7670g-azure-iothub-2025-08-22.log (a real A7670G session)
//   [C2D]  real C2D topic names seen in SDK tests, e.g. azure-iot-sdk-java's MOCK_PARSE_TOPIC
//          "devices/deviceID/messages/devicebound/%24.mid=…&%24.exp=0&%24.to=%2Fdevices%2FdeviceID
//          %2Fmessages%2FdeviceBound&%24.cid=…&iothub-ack=full&property1=value1"
//
// What it does (details at each piece of code):
//   TLS 1.2 only [MF TLS]; the no-SNI refusal of index.mjs (tls-front.mjs) unless requireSni=false;
//   MQTT 3.1.1 only [MQTT] (3.1 → CONNACK 1); clientId = deviceId, username
//   `{hub}.azure-devices.net/{deviceId}/?api-version=…`, password = SAS token checked against the
//   device's primary/secondary key on the hub clock `now()`; every authentication failure →
//   CONNACK 5 [RC5]; the connection is dropped when its SAS token expires [ERR 401003]; one
//   connection per device id [MQTT][ERR 400027]; QoS 2 PUBLISH or an unknown topic closes the
//   connection [MQTT]; SUBSCRIBE only to the four documented filters (others 0x80), QoS 2 granted
//   as 1 [MQTT]; retain never stored, forwarded as property `mqtt-retain` [MQTT]; twin GET/PATCH,
//   desired-property pushes, direct methods, C2D with a property bag topic [MQTT][C2D];
//   keep-alive timeout 1.5 × client keep-alive capped at 1767 s [MQTT]; Will to the telemetry topic
//   becomes telemetry with iothub-MessageType=Will [MQTT].
// Never recorded anywhere: passwords/SAS tokens, signatures, device keys.

import { waitUntil } from './wait.mjs';
import tls from 'node:tls';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import mqttPacket from 'mqtt-packet';
import { makeTestPki } from './pki.mjs';
import { createSniFront } from './tls-front.mjs';

export { makeTestPki };

// CONNACK return codes (MQTT 3.1.1 §3.2.2.3). IoT Hub answers every failed authentication with 5
// [RC5] — unknown device, bad SAS signature, expired token, wrong resource, malformed username —
// never 4 (the C# SDK maps 4 and 5 alike, azure-iot-sdk-csharp PR #1510, but the hub sends 5).
export const CONNACK = { ACCEPTED: 0, BAD_PROTOCOL: 1, NOT_AUTHORIZED: 5 };
const RC_TEXT = { 0: 'accepted', 1: 'unacceptable protocol version', 5: 'not authorized' };

// [MQTT] "IoT Hub limits the maximum server-side timeout to 29.45 minutes (1767 seconds)".
const MAX_SERVER_KEEPALIVE_S = 1767;
// IoT Hub keeps at most 50 C2D messages per device queue (quota "cloud-to-device queue depth").
const C2D_QUEUE_MAX = 50;
const EXPIRY_CHECK_REAL_MS = 100;

const plainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** JSON-merge a twin patch into target: members set to null are deleted, objects merge deeply. */
function mergePatch(target, patch) {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (plainObject(v)) {
      if (!plainObject(target[k])) target[k] = {};
      mergePatch(target[k], v);
    } else target[k] = clone(v);
  }
  return target;
}

const safeDecode = (s) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/**
 * Parses an IoT Hub property bag / query string (`a=1&%24.ct=application%2Fjson&flag`) into an
 * object of decoded names and values; a bare key gives null, `key=` gives '' ([MQTT] "property
 * value representation"). A leading `?` is skipped.
 */
export function parsePropertyBag(bag) {
  const out = {};
  const s = bag.startsWith('?') ? bag.slice(1) : bag;
  if (!s) return out;
  for (const part of s.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq < 0) out[safeDecode(part)] = null;
    else out[safeDecode(part.slice(0, eq))] = safeDecode(part.slice(eq + 1));
  }
  return out;
}

/** Raw (still encoded) value of `name` in a query string, or undefined. Used to echo $rid as sent. */
function rawQueryValue(query, name) {
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k === name || safeDecode(k) === name) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

/** Encodes a property bag the way IoT Hub does on C2D topics: `$` → %24, `/` → %2F, … [C2D] */
function encodePropertyBag(props) {
  const enc = (s) => encodeURIComponent(String(s)).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return Object.entries(props)
    .map(([k, v]) => (v === null || v === undefined ? enc(k) : `${enc(k)}=${enc(v)}`))
    .join('&');
}

/**
 * Parses `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]` (fields in any order) [SAS].
 * → { sr, sig, se, skn } with sr and sig still URL-encoded as given, or { error }.
 */
export function parseSasToken(token) {
  const PREFIX = 'SharedAccessSignature ';
  if (typeof token !== 'string' || !token.startsWith(PREFIX)) return { error: 'not a SharedAccessSignature' };
  const fields = {};
  for (const part of token.slice(PREFIX.length).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { error: 'malformed field' };
    const k = part.slice(0, eq);
    if (!['sr', 'sig', 'se', 'skn'].includes(k)) return { error: `unknown field ${k}` };
    if (Object.hasOwn(fields, k)) return { error: `duplicate field ${k}` };
    fields[k] = part.slice(eq + 1);
  }
  for (const k of ['sr', 'sig', 'se']) if (!fields[k]) return { error: `missing ${k}` };
  if (!/^\d+$/.test(fields.se)) return { error: 'se is not an integer' };
  return fields;
}

/** base64(HMAC-SHA256(base64decode(key), sr + "\n" + se)) — sr exactly as it appears in the token [SAS]. */
export function sasSignature(keyBase64, srAsGiven, se) {
  return createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(`${srAsGiven}\n${se}`).digest('base64');
}

/** A device SAS token (no skn), as a device should build it [SAS][MF]. */
export function makeDeviceSas({ hostName, deviceId, key, expiry }) {
  const sr = encodeURIComponent(`${hostName}/devices/${deviceId}`);
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sasSignature(key, sr, expiry))}&se=${expiry}`;
}

const sameBytes = (a, b) => a.length === b.length && timingSafeEqual(a, b);

/**
 * startAzureHub(options) → Promise<hub>
 *   pki: { caPem, certPem, keyPem } whose certificate covers `*.azure-devices.net`
 *        (default makeTestPki({ hosts: ['*.azure-devices.net'] }))
 *   hub = 'cellpub-test' → hostName `${hub}.azure-devices.net`
 *   devices: { [deviceId]: { primaryKey?, secondaryKey? (base64), x509?: true | { thumbprint },
 *              desired?: {...} (initial desired properties) } }
 *   now = () => Date.now(): the hub's clock in ms since the epoch (SAS expiry, method timeouts,
 *        telemetry times). Tests on the virtual clock pass () => NETWORK_EPOCH + clock.now().
 *   requireSni = true: refuse a ClientHello without server_name (see tls-front.mjs). Note: [MF]
 *        says a real A7670G reached IoT Hub without SNI, so the real hub does not seem to insist.
 *   requestCert: ask for a client certificate in the handshake (default: when a device uses x509).
 *
 * hub: { host, tlsPort, hostName, pki, events, telemetry, twins, close(), updateDesired(id, patch),
 *        sendC2D(id, payload, properties), invokeMethod(id, name, payload, { timeoutMs }),
 *        connected(id), waitFor(pred, ms), checkExpiry(), c2dQueue(id) }
 * events: { time (real ms), hubTime, kind, … } records, kinds:
 *   'connect'   { servername, tlsVersion, protocolVersion, clientId, username, apiVersion, auth
 *                 ('sas'|'x509'), key ('primary'|'secondary'), se, keepalive, clean, outcome,
 *                 returnCode, detail } outcome: 'accepted' | 'bad-protocol' | 'unknown-device' |
 *                 'bad-username' | 'no-password' | 'bad-sas-format' | 'sas-skn-with-device-key' |
 *                 'bad-sas-resource' | 'bad-sas-signature' | 'sas-expired' | 'x509-no-cert' |
 *                 'x509-mismatch' | 'no-auth-method'
 *   'tls'       { outcome: 'no-sni' | 'tls-error', servername, detail }
 *   'disconnect'{ deviceId, reason: 'client-disconnect' | 'socket-closed' | 'sas-expired' |
 *                 'replaced' | 'qos2-publish' | 'bad-topic' | 'keepalive-timeout' |
 *                 'protocol-error' | 'hub-closed', detail }
 *   'subscribe' { deviceId, topic, requestedQos, granted } (granted 0x80 = refused)
 *   'twin' / 'method' / 'c2d' small records of service traffic.
 * telemetry: D2C messages { deviceId, topic, properties, payload (utf-8 string), qos, retain, time }.
 * twins: { [deviceId]: { desired: {…, $version}, reported: {…, $version} } } (live objects).
 */
export async function startAzureHub({
  pki = makeTestPki({ hosts: ['*.azure-devices.net'] }),
  hub = 'cellpub-test',
  devices = {},
  now = () => Date.now(),
  requireSni = true,
  requestCert,
} = {}) {
  const host = '127.0.0.1';
  const hostName = `${hub}.azure-devices.net`;
  const events = [];
  const telemetry = [];
  const twins = {};
  const sessions = new Map(); // deviceId → { subs: Map(filter → qos) } (kept with CleanSession 0)
  // C2D queues belong to the device identity, not to the MQTT session: IoT Hub keeps them
  // whatever CleanSession says; only delivery waits for a subscription [MQTT].
  const c2dQueues = new Map(); // deviceId → [{ messageId, topic, payload, sentOn }]
  const conns = new Map(); // deviceId → active connection
  const allConns = new Set();
  const sockets = new Set();
  const watchers = new Set();
  const pendingMethods = new Map(); // rid → { deviceId, name, deadline, resolve, reject }
  let ridCounter = 0x1a0;
  let closed = false;

  for (const [id, d] of Object.entries(devices)) {
    twins[id] = { desired: { ...clone(d.desired || {}), $version: 1 }, reported: { $version: 1 } };
  }

  const notify = () => {
    for (const w of [...watchers]) w();
  };
  function record(e) {
    const ev = { time: Date.now(), hubTime: now(), ...e };
    events.push(ev);
    notify();
    return ev;
  }

  const session = (id) => {
    if (!sessions.has(id)) sessions.set(id, { subs: new Map() });
    return sessions.get(id);
  };

  // ---- topics ------------------------------------------------------------------------------
  // [MQTT] "only supports the documented topic names and topic filters".
  const allowedFilters = (id) => ({
    [`devices/${id}/messages/devicebound/#`]: 'c2d',
    '$iothub/twin/res/#': 'twinRes',
    '$iothub/twin/PATCH/properties/desired/#': 'desired',
    '$iothub/methods/POST/#': 'methods',
  });
  const filterFor = (id, kind) => Object.entries(allowedFilters(id)).find(([, k]) => k === kind)[0];

  // ---- TLS ---------------------------------------------------------------------------------
  const wantCert = requestCert ?? Object.values(devices).some((d) => d.x509);
  const tlsServer = tls.createServer({
    key: pki.keyPem,
    cert: pki.certPem,
    // [MF] "Since 31 Aug 2025 TLS 1.0/1.1 are no longer supported; TLS 1.2 … is enforced".
    // The brief asks for 1.2 only: a TLS 1.3 client is refused too (protocol_version alert).
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    // [MF] "The IoT Hub may request a client certificate in the handshake" (X.509 devices);
    // verification is ours (deviceId / thumbprint), not the TLS stack's.
    requestCert: wantCert,
    rejectUnauthorized: false,
  });
  const track = (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  tlsServer.on('secureConnection', (sock) => {
    track(sock);
    handleConnection(sock);
  });
  tlsServer.on('tlsClientError', (err, sock) => {
    record({
      kind: 'tls',
      outcome: 'tls-error',
      servername: (sock && (sock.servername || sniOf(sock._parent))) || null,
      detail: err.code || err.message,
    });
  });
  const { front, sniOf } = createSniFront({
    tlsServer,
    requireSni,
    track,
    onNoSni: () => record({ kind: 'tls', outcome: 'no-sni', servername: null, detail: 'ClientHello without server_name; fatal alert unrecognized_name' }),
  });

  // ---- one MQTT connection -------------------------------------------------------------------
  function handleConnection(sock) {
    const conn = {
      sock,
      deviceId: null,
      state: 'connecting', // connecting | up | closed
      servername: sock.servername || null,
      tlsVersion: sock.getProtocol(),
      nextMid: 1,
      inflight: new Map(), // messageId → { onAck }
      se: null, // SAS expiry (s since epoch) or null (X.509)
      keepaliveLimitMs: MAX_SERVER_KEEPALIVE_S * 1000,
      lastRx: performance.now(),
      will: null,
      closeReason: null,
    };
    allConns.add(conn);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (conn.state === 'closed') return;
      conn.lastRx = performance.now();
      try {
        onPacket(conn, p);
      } catch (err) {
        drop(conn, 'protocol-error', String(err && err.message));
      }
      notify();
    });
    parser.on('error', (err) => {
      if (conn.state === 'connecting' && /protocol version/i.test(err.message)) {
        // A CONNECT with a level mqtt-packet does not know (not 3/4/5): same answer as for 3.1.
        record({
          kind: 'connect',
          servername: conn.servername,
          tlsVersion: conn.tlsVersion,
          protocolVersion: null,
          clientId: null,
          username: null,
          outcome: 'bad-protocol',
          returnCode: 1,
          detail: err.message,
        });
        refuse(conn, 1);
        return;
      }
      drop(conn, 'protocol-error', err.message);
    });
    sock.on('data', (b) => parser.parse(b));
    sock.on('close', () => onSocketClosed(conn));
  }

  function send(conn, packet) {
    if (conn.state === 'closed' || conn.sock.destroyed) return;
    conn.sock.write(mqttPacket.generate(packet, { protocolVersion: 4 }));
  }

  function refuse(conn, returnCode) {
    send(conn, { cmd: 'connack', returnCode, sessionPresent: false });
    conn.state = 'closed';
    conn.closeReason = 'refused';
    conn.sock.end();
    setTimeout(() => conn.sock.destroy(), 200).unref();
  }

  /** Closes a connection from the hub's side (IoT Hub just closes the network connection). */
  function drop(conn, reason, detail) {
    if (conn.state === 'closed') return;
    const wasUp = conn.state === 'up';
    conn.closeReason = reason;
    // before CONNECT only a protocol error is worth a record (hub-closed of a half-open socket is not)
    if (wasUp || reason === 'protocol-error') record({ kind: 'disconnect', deviceId: conn.deviceId, reason, ...(detail ? { detail } : {}) });
    finish(conn, reason !== 'client-disconnect' && reason !== 'hub-closed');
    conn.sock.destroy();
  }

  function onSocketClosed(conn) {
    allConns.delete(conn);
    if (conn.state === 'closed') return;
    if (conn.state === 'up') record({ kind: 'disconnect', deviceId: conn.deviceId, reason: 'socket-closed' });
    finish(conn, true);
    notify();
  }

  function finish(conn, sendWill) {
    const wasUp = conn.state === 'up';
    conn.state = 'closed';
    if (!wasUp) return;
    if (conns.get(conn.deviceId) === conn) conns.delete(conn.deviceId);
    // Unacknowledged C2D messages stay queued (IoT Hub redelivers until completed); nothing else
    // in flight survives the connection.
    conn.inflight.clear();
    if (conn.clean) sessions.delete(conn.deviceId);
    // [MQTT] Will on the telemetry topic: "if the network connection is closed, but a DISCONNECT
    // packet wasn't previously received … IoT Hub sends the Will message … iothub-MessageType=Will".
    if (sendWill && conn.will) {
      const t = telemetryTopic(conn.deviceId, conn.will.topic);
      if (t) {
        telemetry.push({
          deviceId: conn.deviceId,
          topic: conn.will.topic,
          properties: { ...t.properties, 'iothub-MessageType': 'Will' },
          payload: Buffer.from(conn.will.payload || '').toString('utf8'),
          qos: conn.will.qos,
          retain: !!conn.will.retain,
          time: now(),
        });
      }
    }
    notify();
  }

  /** → { properties } if topic is `devices/{id}/messages/events/…`, else null [MQTT D2C]. */
  function telemetryTopic(id, topic) {
    const prefix = `devices/${id}/messages/events/`;
    if (!topic.startsWith(prefix)) return null;
    return { properties: parsePropertyBag(topic.slice(prefix.length)) };
  }

  /** Is the SAS of this connection expired on the hub clock? Drops it if so [ERR 401003]. */
  function expireIfDue(conn) {
    if (conn.state !== 'up' || conn.se == null) return false;
    if (now() < conn.se * 1000) return false;
    drop(conn, 'sas-expired', `token expired at se=${conn.se}`);
    return true;
  }

  function onPacket(conn, p) {
    if (conn.state === 'connecting') {
      if (p.cmd !== 'connect') return drop(conn, 'protocol-error', `first packet ${p.cmd}`);
      return onConnect(conn, p);
    }
    if (expireIfDue(conn)) return;
    switch (p.cmd) {
      case 'publish':
        return onPublish(conn, p);
      case 'puback': {
        const f = conn.inflight.get(p.messageId);
        conn.inflight.delete(p.messageId);
        if (f && f.onAck) f.onAck();
        return;
      }
      case 'subscribe':
        return onSubscribe(conn, p);
      case 'unsubscribe': {
        const s = session(conn.deviceId);
        for (const t of p.unsubscriptions) s.subs.delete(t);
        return send(conn, { cmd: 'unsuback', messageId: p.messageId });
      }
      case 'pingreq':
        return send(conn, { cmd: 'pingresp' });
      case 'disconnect':
        conn.will = null;
        return drop(conn, 'client-disconnect');
      default:
        // CONNECT twice, PUBREC/PUBREL/PUBCOMP (no QoS 2 here), …: a protocol violation.
        return drop(conn, 'protocol-error', `unexpected ${p.cmd}`);
    }
  }

  // ---- CONNECT -------------------------------------------------------------------------------
  function authenticate(conn, p) {
    const id = p.clientId;
    const d = Object.hasOwn(devices, id) ? devices[id] : null;
    // [MQTT] "For the ClientId field, use the deviceId"; an unknown id is refused like a bad
    // token (azure-iot-cli-extension#80: a typo in the device id → "Connection Refused: not authorised").
    if (!d) return { outcome: 'unknown-device', detail: `no device '${id}' in hub ${hub}` };

    // [MQTT] Username `{iotHub-hostname}/{device-id}/?api-version=2021-04-12`. The docs only
    // *recommend* api-version; we insist on it, as the brief asks, so the firmware sends it.
    // Extra query parameters (DeviceClientType=…, model-id=…) are allowed as the SDKs send them.
    const m = /^([^/]+)\/([^/]+)\/\?(.*)$/.exec(p.username ?? '');
    const q = m ? parsePropertyBag(m[3]) : {};
    if (!m || m[1].toLowerCase() !== hostName.toLowerCase() || m[2] !== id || !/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(q['api-version'] ?? '')) {
      return { outcome: 'bad-username', detail: 'expected `' + `${hostName}/${id}/?api-version=<yyyy-mm-dd>` + '`' };
    }
    const apiVersion = q['api-version'];

    if (d.x509) {
      // X.509: the password is not needed [MQTT]; the client certificate must name the device
      // (CA-signed model: subject CN = deviceId) or match the registered thumbprint (self-signed).
      const cert = conn.sock.getPeerCertificate();
      if (!cert || !cert.subject) return { apiVersion, auth: 'x509', outcome: 'x509-no-cert', detail: 'no client certificate' };
      const t = now();
      const inDate = Date.parse(cert.valid_from) <= t && t <= Date.parse(cert.valid_to);
      const norm = (s) =>
        String(s || '')
          .replace(/:/g, '')
          .toLowerCase();
      const ok =
        typeof d.x509 === 'object' && d.x509.thumbprint
          ? [norm(cert.fingerprint), norm(cert.fingerprint256)].includes(norm(d.x509.thumbprint))
          : cert.subject.CN === id;
      if (!ok || !inDate)
        return { apiVersion, auth: 'x509', outcome: 'x509-mismatch', detail: !inDate ? 'certificate not valid now' : 'certificate does not match the device' };
      return { apiVersion, auth: 'x509', outcome: 'accepted' };
    }

    const keys = [
      ['primary', d.primaryKey],
      ['secondary', d.secondaryKey],
    ].filter(([, k]) => k);
    if (!keys.length) return { apiVersion, outcome: 'no-auth-method', detail: 'device has neither keys nor x509' };
    if (p.password == null) return { apiVersion, auth: 'sas', outcome: 'no-password', detail: 'no SAS token in the password field' };
    const sas = parseSasToken(Buffer.from(p.password).toString('utf8'));
    if (sas.error) return { apiVersion, auth: 'sas', outcome: 'bad-sas-format', detail: sas.error };
    // [MF][SAS] "append &skn={policyName} only when signing with a hub-level policy key. Omit skn
    // for device keys." A device key with skn does not authenticate.
    if (sas.skn !== undefined) return { apiVersion, auth: 'sas', outcome: 'sas-skn-with-device-key', detail: 'skn is for shared access policy keys' };
    // [SAS] resourceURI `{hub}.azure-devices.net/devices/{deviceId}`, URL-encoded in sr. Compared
    // decoded; host name case-insensitively (DNS), the device id exactly (ids are case-sensitive).
    const res = /^([^/]+)\/devices\/(.+)$/.exec(safeDecode(sas.sr));
    if (!res || res[1].toLowerCase() !== hostName.toLowerCase() || safeDecode(res[2]) !== id) {
      return { apiVersion, auth: 'sas', outcome: 'bad-sas-resource', detail: `sr must be ${hostName}/devices/${id}` };
    }
    // [SAS] signature over "URL-encoded resourceURI \n expiry" — the sr exactly as in the token.
    const given = Buffer.from(safeDecode(sas.sig), 'utf8');
    const match = keys.find(([, k]) => sameBytes(Buffer.from(sasSignature(k, sas.sr, sas.se), 'utf8'), given));
    if (!match) return { apiVersion, auth: 'sas', outcome: 'bad-sas-signature', detail: 'signature matches neither key' };
    const se = Number(sas.se);
    if (se * 1000 <= now()) return { apiVersion, auth: 'sas', key: match[0], se, outcome: 'sas-expired', detail: `se=${se} is not in the future` };
    return { apiVersion, auth: 'sas', key: match[0], se, outcome: 'accepted' };
  }

  function onConnect(conn, p) {
    const base = {
      kind: 'connect',
      servername: conn.servername,
      tlsVersion: conn.tlsVersion,
      protocolVersion: p.protocolVersion,
      clientId: p.clientId,
      username: p.username ?? null,
      keepalive: p.keepalive,
      clean: p.clean,
    };
    // [MQTT] "MQTT v3.1.1 on TCP port 8883"; [MF] "MQTT v3.1.1 only" (the A76xx default is 3.1).
    // MQTT 5 was a preview on opted-in hubs only (deprecated), so level 5 is refused too.
    if (p.protocolVersion !== 4) {
      record({ ...base, outcome: 'bad-protocol', returnCode: 1, detail: `protocol level ${p.protocolVersion}` });
      return refuse(conn, 1);
    }
    const a = authenticate(conn, p);
    if (a.outcome !== 'accepted') {
      record({ ...base, ...a, returnCode: CONNACK.NOT_AUTHORIZED });
      return refuse(conn, CONNACK.NOT_AUTHORIZED);
    }
    const id = p.clientId;
    // [MQTT] "Any new MQTT connection on behalf of the same device ID causes IoT Hub to drop the
    // existing connection" (400027 ConnectionForcefullyClosedOnNewConnection).
    const old = conns.get(id);
    if (old) drop(old, 'replaced', '400027 ConnectionForcefullyClosedOnNewConnection');
    conn.deviceId = id;
    conn.se = a.se ?? null;
    conn.clean = p.clean;
    conn.will = p.will || null;
    // [MQTT] server timeout = 1.5 × client keep-alive, at most 1767 s (also when keep-alive is 0:
    // the Azure load balancer's idle timeout). Runs on real time: the simulated modem's MQTT
    // client (mqtt-link.mjs) pings in real time too.
    conn.keepaliveLimitMs = Math.min(p.keepalive > 0 ? p.keepalive * 1.5 : Infinity, MAX_SERVER_KEEPALIVE_S) * 1000;
    const hadSession = sessions.has(id);
    if (p.clean) sessions.delete(id);
    const sessionPresent = !p.clean && hadSession && session(id).subs.size > 0;
    session(id);
    conn.state = 'up';
    conns.set(id, conn);
    record({ ...base, ...a, returnCode: 0 });
    send(conn, { cmd: 'connack', returnCode: 0, sessionPresent });
    // [MQTT] with CleanSession 0 the subscription persists and outstanding C2D messages arrive.
    flushC2D(id);
  }

  // ---- PUBLISH from the device ---------------------------------------------------------------
  function onPublish(conn, p) {
    const id = conn.deviceId;
    // [MQTT] "If a device app publishes a message with QoS 2, IoT Hub closes the network connection."
    if (p.qos === 2) return drop(conn, 'qos2-publish', p.topic);
    const ack = () => {
      if (p.qos === 1) send(conn, { cmd: 'puback', messageId: p.messageId });
    };
    const t = telemetryTopic(id, p.topic);
    if (t) {
      const properties = { ...t.properties };
      // [MQTT] "IoT Hub doesn't persist Retain messages … adds the mqtt-retain application property".
      if (p.retain) properties['mqtt-retain'] = 'true';
      telemetry.push({
        deviceId: id,
        topic: p.topic,
        properties,
        payload: Buffer.from(p.payload).toString('utf8'),
        qos: p.qos,
        retain: !!p.retain,
        time: now(),
      });
      return ack();
    }
    let m;
    if ((m = /^\$iothub\/twin\/GET\/\?(.*)$/.exec(p.topic))) {
      const rid = rawQueryValue(m[1], '$rid');
      if (rid === undefined) return drop(conn, 'bad-topic', p.topic);
      ack();
      record({ kind: 'twin', deviceId: id, op: 'GET', rid, status: 200 });
      // [MQTT] response on $iothub/twin/res/200/?$rid={rid}, body = desired + reported sections.
      const tw = twins[id];
      return deliver(conn, `$iothub/twin/res/200/?$rid=${rid}`, JSON.stringify({ desired: tw.desired, reported: tw.reported }), 'twinRes');
    }
    if ((m = /^\$iothub\/twin\/PATCH\/properties\/reported\/\?(.*)$/.exec(p.topic))) {
      const rid = rawQueryValue(m[1], '$rid');
      if (rid === undefined) return drop(conn, 'bad-topic', p.topic);
      ack();
      let patch;
      try {
        patch = JSON.parse(Buffer.from(p.payload).toString('utf8'));
      } catch {
        patch = undefined;
      }
      // [MQTT] 204 success with the new reported $version; 400 "Bad Request. Malformed JSON".
      if (!plainObject(patch)) {
        record({ kind: 'twin', deviceId: id, op: 'PATCH-reported', rid, status: 400 });
        return deliver(conn, `$iothub/twin/res/400/?$rid=${rid}`, '', 'twinRes');
      }
      const rep = twins[id].reported;
      delete patch.$version;
      mergePatch(rep, patch);
      rep.$version += 1;
      record({ kind: 'twin', deviceId: id, op: 'PATCH-reported', rid, status: 204, version: rep.$version });
      return deliver(conn, `$iothub/twin/res/204/?$rid=${rid}&$version=${rep.$version}`, '', 'twinRes');
    }
    if ((m = /^\$iothub\/methods\/res\/(-?\d+)\/\?(.*)$/.exec(p.topic))) {
      // [MQTT] reply on $iothub/methods/res/{status}/?$rid={request-id}; "status must be an integer".
      const rid = rawQueryValue(m[2], '$rid');
      if (rid === undefined) return drop(conn, 'bad-topic', p.topic);
      ack();
      const pending = pendingMethods.get(rid);
      record({ kind: 'method', deviceId: id, op: 'response', rid, status: Number(m[1]), known: !!pending });
      if (pending && pending.deviceId === id) {
        pendingMethods.delete(rid);
        const text = Buffer.from(p.payload).toString('utf8');
        let payload = null;
        if (text.length) {
          try {
            payload = JSON.parse(text);
          } catch {
            payload = text;
          }
        }
        pending.resolve({ status: Number(m[1]), payload });
      }
      return; // a late/unknown response is ignored, as IoT Hub has already answered the caller
    }
    // [MQTT] "only supports the documented topic names"; "AMQP returns errors for many
    // conditions, while MQTT terminates the connection".
    return drop(conn, 'bad-topic', p.topic);
  }

  // ---- SUBSCRIBE -----------------------------------------------------------------------------
  function onSubscribe(conn, p) {
    const id = conn.deviceId;
    const allowed = allowedFilters(id);
    const s = session(id);
    const granted = p.subscriptions.map(({ topic, qos }) => {
      let g = 0x80;
      if (Object.hasOwn(allowed, topic)) {
        // [MQTT] "When a device app subscribes to a topic with QoS 2, IoT Hub grants maximum QoS
        // level 1 in the SUBACK packet."
        g = Math.min(qos, 1);
        s.subs.set(topic, g);
      }
      record({ kind: 'subscribe', deviceId: id, topic, requestedQos: qos, granted: g });
      return g;
    });
    send(conn, { cmd: 'suback', messageId: p.messageId, granted });
    flushC2D(id);
  }

  // ---- PUBLISH to the device -----------------------------------------------------------------
  /** Sends to the device if it is subscribed to the filter of `kind`; → false otherwise. */
  function deliver(conn, topic, payload, kind, onAck) {
    if (!conn || conn.state !== 'up') return false;
    const qos = session(conn.deviceId).subs.get(filterFor(conn.deviceId, kind));
    if (qos === undefined) return false;
    const packet = {
      cmd: 'publish',
      topic,
      payload: Buffer.isBuffer(payload) ? payload : Buffer.from(String(payload), 'utf8'),
      qos,
      retain: false,
      dup: false,
    };
    if (qos === 1) {
      let mid = conn.nextMid;
      while (conn.inflight.has(mid)) mid = (mid % 65535) + 1;
      conn.nextMid = (mid % 65535) + 1;
      packet.messageId = mid;
      conn.inflight.set(mid, { onAck });
    }
    send(conn, packet);
    if (qos === 0 && onAck) onAck();
    return true;
  }

  function flushC2D(id) {
    const conn = conns.get(id);
    const q = c2dQueues.get(id);
    if (!conn || !q) return;
    for (const msg of q) {
      if (msg.sentOn === conn) continue;
      const ok = deliver(conn, msg.topic, msg.payload, 'c2d', () => {
        // PUBACK completes the message (MQTT has no reject/abandon [MQTT]).
        const i = q.indexOf(msg);
        if (i >= 0) q.splice(i, 1);
        record({ kind: 'c2d', deviceId: id, op: 'completed', messageId: msg.messageId });
      });
      if (!ok) return;
      msg.sentOn = conn;
    }
  }

  // ---- periodic checks (real-time interval; the hub clock decides) ----------------------------
  function checkExpiry() {
    for (const conn of [...conns.values()]) expireIfDue(conn);
    const t = now();
    for (const [rid, m] of [...pendingMethods]) if (t >= m.deadline) m.timeout(rid);
  }
  const ticker = setInterval(() => {
    checkExpiry();
    const real = performance.now();
    for (const conn of [...conns.values()]) {
      if (real - conn.lastRx > conn.keepaliveLimitMs) drop(conn, 'keepalive-timeout', `nothing for ${conn.keepaliveLimitMs} ms`);
    }
  }, EXPIRY_CHECK_REAL_MS);
  ticker.unref();

  // ---- service side API ------------------------------------------------------------------------
  const needDevice = (id) => {
    if (!Object.hasOwn(devices, id)) throw new Error(`azure hub: no device '${id}'`);
  };

  /** Merges a desired-properties patch, bumps $version, pushes it to a subscribed device → version. */
  function updateDesired(deviceId, patch) {
    needDevice(deviceId);
    if (!plainObject(patch)) throw new TypeError('desired patch must be an object');
    const des = twins[deviceId].desired;
    const body = clone(patch);
    delete body.$version;
    mergePatch(des, body);
    des.$version += 1;
    // [MQTT] "$iothub/twin/PATCH/properties/desired/?$version={new-version}", body = patch + $version;
    // "IoT Hub generates change notifications only when devices are connected".
    const pushed = deliver(
      conns.get(deviceId),
      `$iothub/twin/PATCH/properties/desired/?$version=${des.$version}`,
      JSON.stringify({ ...body, $version: des.$version }),
      'desired',
    );
    record({ kind: 'twin', deviceId, op: 'PATCH-desired', version: des.$version, pushed });
    return des.$version;
  }

  /**
   * Queues a cloud-to-device message → { messageId, topic }. `properties`: application properties
   * (null value → bare key) and system properties by their wire names ($.mid, $.cid, $.uid, $.ct,
   * $.ce, $.exp, iothub-ack). Topic: devices/{id}/messages/devicebound/%24.mid=…&%24.to=… [C2D],
   * typically well over 100 bytes. Delivered at once when the device is connected and subscribed,
   * else when it next subscribes; removed on PUBACK.
   */
  function sendC2D(deviceId, payload, properties = {}) {
    needDevice(deviceId);
    if (!c2dQueues.has(deviceId)) c2dQueues.set(deviceId, []);
    const q = c2dQueues.get(deviceId);
    // IoT Hub refuses a send to a full device queue (403004 DeviceMaximumQueueDepthExceeded).
    if (q.length >= C2D_QUEUE_MAX) throw Object.assign(new Error('403004 DeviceMaximumQueueDepthExceeded'), { status: 403 });
    const props = { ...properties };
    const messageId = props['$.mid'] ?? randomUUID();
    delete props['$.mid'];
    const bag = { '$.mid': messageId, '$.to': `/devices/${deviceId}/messages/deviceBound`, ...props };
    const topic = `devices/${deviceId}/messages/devicebound/${encodePropertyBag(bag)}`;
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
    q.push({ messageId, topic, payload: body, sentOn: null });
    record({ kind: 'c2d', deviceId, op: 'queued', messageId, topicLength: Buffer.byteLength(topic) });
    flushC2D(deviceId);
    return { messageId, topic };
  }

  /**
   * Invokes a direct method → Promise<{ status, payload }>. Rejects with err.status 404 when the
   * device is not connected/subscribed (404103 DeviceNotOnline) and 504 after timeoutMs of hub
   * time without an answer (504101 GatewayTimeout).
   */
  function invokeMethod(deviceId, name, payload = null, { timeoutMs = 30000 } = {}) {
    needDevice(deviceId);
    const conn = conns.get(deviceId);
    const rid = (ridCounter++).toString(16);
    return new Promise((resolve, reject) => {
      if (!conn || !session(deviceId).subs.has(filterFor(deviceId, 'methods'))) {
        record({ kind: 'method', deviceId, op: 'invoke', name, rid, status: 404 });
        reject(Object.assign(new Error('404103 DeviceNotOnline'), { status: 404 }));
        return;
      }
      const entry = {
        deviceId,
        name,
        deadline: now() + timeoutMs,
        resolve: (r) => {
          notify();
          resolve(r);
        },
        timeout: (r) => {
          pendingMethods.delete(r);
          record({ kind: 'method', deviceId, op: 'timeout', name, rid: r, status: 504 });
          reject(Object.assign(new Error(`504101 GatewayTimeout: method '${name}' got no answer in ${timeoutMs} ms`), { status: 504 }));
        },
      };
      pendingMethods.set(rid, entry);
      record({ kind: 'method', deviceId, op: 'invoke', name, rid });
      // [MQTT] "$iothub/methods/POST/{method-name}/?$rid={request-id}, with either a valid JSON or an empty body".
      deliver(conn, `$iothub/methods/POST/${name}/?$rid=${rid}`, payload === undefined ? '' : JSON.stringify(payload), 'methods');
    });
  }

  // re-checked on every hub event and, for predicates on the test's own state, every 20 ms
  const waitFor = (pred, ms = 5000) => waitUntil(watchers, pred, ms, `azure hub: ${pred.toString().slice(0, 120)}`, 20);

  const tlsPort = await new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, host, () => {
      front.removeListener('error', reject);
      resolve(front.address().port);
    });
  });

  async function close() {
    if (closed) return;
    closed = true;
    clearInterval(ticker);
    for (const conn of [...allConns]) drop(conn, 'hub-closed');
    for (const [rid, m] of [...pendingMethods]) {
      pendingMethods.delete(rid);
      m.timeout(rid);
    }
    for (const s of sockets) s.destroy();
    await Promise.all([front, tlsServer].map((s) => new Promise((r) => (s.listening ? s.close(() => r()) : r()))));
  }

  return {
    host,
    tlsPort,
    hostName,
    hub,
    pki,
    events,
    telemetry,
    twins,
    close,
    updateDesired,
    sendC2D,
    invokeMethod,
    connected: (id) => conns.has(id) && conns.get(id).state === 'up',
    waitFor,
    checkExpiry,
    /** the C2D messages still queued for a device (not yet acknowledged) */
    c2dQueue: (id) => (c2dQueues.get(id) || []).map(({ messageId, topic }) => ({ messageId, topic })),
  };
}
