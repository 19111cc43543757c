// A real MQTT broker for tests and the virtual board: Aedes on 127.0.0.1, ephemeral ports, with a
// TLS listener that behaves like HiveMQ Cloud (modem-facts.md §D.1):
//   - TLS 1.2+ only (tlsMinVersion), server certificate from the throw-away test CA (pki.mjs);
//   - a client whose ClientHello carries no server_name (SNI) is refused before the handshake
//     goes on: the listener reads the ClientHello itself, answers a fatal TLS alert
//     unrecognized_name(112) and closes; only then is the socket handed to Node's tls.Server.
//     (Node's tls.Server gives no hook between ClientHello and handshake for a *missing* SNI:
//     SNICallback only runs when a name was sent, 'secureConnection' comes after the handshake.)
//   - username/password required: CONNACK 4 "bad user name or password" for an unknown user or a
//     wrong password, CONNACK 5 "not authorized" when none was sent (MQTT 3.1.1 §3.2.2.3);
//   - protocol levels outside allowedProtocols (default [4] = MQTT 3.1.1) get CONNACK 1
//     "unacceptable protocol version" and are disconnected (MQTT 3.1.1 §3.1.2.2).
// Which return code HiveMQ Cloud really sends in each case and its exact minimum TLS version are
// not confirmed (modem-facts.md §E.4); the codes above follow the MQTT 3.1.1 spec.
//
// Faults (reliability tests, host/testing/faults.mjs):
//   - stop() / start() / restart({downMs}): the broker process dies and comes back on the SAME
//     ports. Every connection is cut at the TCP level (no DISCONNECT, and no will is published:
//     the process that would publish it is gone), new connections are refused (ECONNREFUSED)
//     while it is down. Sessions live in memory, so a restarted broker has none (clean sessions
//     lose nothing; retained messages and persistent sessions are not wiped here [inferred
//     simplification]).
//   - withholdPubacks(true): the broker keeps taking PUBLISH packets (they are recorded and
//     routed) but sends no PUBACK until withholdPubacks(false); the withheld ones are never sent.
//     Done by filtering the PUBACK packets out of the bytes Aedes writes to each connection.

import { waitUntil } from './wait.mjs';
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes, constants as cryptoConstants } from 'node:crypto';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { makeTestPki, makeChainPki } from './pki.mjs';
import { createSniFront, parseClientHello } from './tls-front.mjs';

export { makeTestPki, makeChainPki, parseClientHello };

const RETURN_CODE_TEXT = {
  1: 'unacceptable protocol version',
  4: 'bad user name or password',
  5: 'not authorized',
};

/**
 * startBroker(options) → Promise<broker>
 *   pki: { caPem, certPem, keyPem } (default: makeTestPki({ hosts: [] }))
 *   users: { name: password } — omit (undefined/null) to accept any credentials
 *   requireSni = true, allowedProtocols = [4], tlsMinVersion = 'TLSv1.2', plain = false
 *   tlsMaxVersion (default: Node's, TLS 1.3), tlsCiphers (OpenSSL cipher list for TLS <= 1.2,
 *     default Node's), tlsOptions: more tls.createServer options, applied last (e.g. ecdhCurve)
 *   sessionIds = true: TLS session-id resumption (an in-memory session store behind Node's
 *     'newSession' / 'resumeSession'; Node's server does none without them)
 *   tickets = true: RFC 5077 session tickets (Node's default; false sets SSL_OP_NO_TICKET)
 *   pki.certPem may hold a chain (leaf first, then intermediates: makeChainPki)
 *   noCredentialsCode = 5, badCredentialsCode = 4
 *   clock: host/runtime/clock.mjs clock (optional): received/events get `at` (its now()), and
 *     restart() counts downMs on it; stop()/start() hold it while real sockets open and close
 * broker: { host, tlsPort, plainPort (null unless plain), aedes, pki, users, events, received,
 *           waitForEvent(pred, ms), waitForReceived(n, ms), close(),
 *           stop(), start(), restart({downMs}), onStart(fn), isDown, restarts,
 *           withholdPubacks(on), withholding, pubacks: { sent, withheld } }
 * events: one record per connection attempt { time, transport: 'tls'|'plain', servername, tlsVersion,
 *   cipher (OpenSSL name), resumed (isSessionReused(): true for a resumed TLS session),
 *   protocolVersion, clientId, username, outcome, returnCode?, detail?, internal? } with outcome
 *   'accepted' | 'no-sni' | 'tls-error' | 'bad-protocol' | 'bad-credentials' | 'not-authorized'.
 *   Passwords are never recorded.
 * received: every PUBLISH from a client { topic, payload: Buffer, qos, retain, clientId, time,
 *   at (virtual ms, with clock), messageId, dup, acked }: acked is false for a QoS 1 PUBLISH until
 *   its PUBACK is written to the connection (it stays false if it never is: connection gone,
 *   PUBACKs withheld), null for QoS 0.
 */
export async function startBroker({
  pki = makeTestPki({ hosts: [] }),
  users,
  requireSni = true,
  allowedProtocols = [4],
  tlsMinVersion = 'TLSv1.2',
  tlsMaxVersion,
  tlsCiphers,
  tlsOptions: extraTlsOptions = {},
  sessionIds = true,
  tickets = true,
  plain = false,
  noCredentialsCode = 5,
  badCredentialsCode = 4,
  clock = null,
} = {}) {
  const host = '127.0.0.1';
  const stamp = () => (clock ? { at: clock.now() } : {});
  const events = [];
  const received = [];
  const sockets = new Set();
  const meta = new WeakMap(); // connection stream → { transport, servername }
  const internalIds = new Set(); // client ids of our own helper clients (subscribe/collect)
  const watchers = new Set();

  function record(e) {
    const ev = { time: Date.now(), ...stamp(), ...e };
    if (ev.clientId != null && internalIds.has(ev.clientId)) ev.internal = true;
    events.push(ev);
    for (const w of watchers) w();
    return ev;
  }

  const aedes = await Aedes.createBroker();
  const connInfo = (client) => meta.get(client.conn) || { transport: 'unknown', servername: null };

  aedes.preConnect = (client, packet, cb) => {
    const level = packet.protocolVersion;
    if (!allowedProtocols.includes(level)) {
      const { transport, servername } = connInfo(client);
      record({
        transport,
        servername,
        protocolVersion: level,
        clientId: packet.clientId,
        username: packet.username ?? null,
        outcome: 'bad-protocol',
        returnCode: 1,
        detail: RETURN_CODE_TEXT[1],
      });
      // Aedes answers CONNACK 1 and closes for levels outside 3..4 itself (MQTT-3.1.2-2); steer
      // a level we do not allow (e.g. 3) into that same path so the CONNACK is flushed first.
      packet.protocolVersion = 0;
    }
    cb(null, true);
  };

  aedes.authenticate = (client, username, password, cb) => {
    const { transport, servername, tlsVersion, cipher, resumed } = connInfo(client);
    const base = {
      transport,
      servername,
      tlsVersion: tlsVersion ?? null,
      ...(transport === 'tls' ? { cipher: cipher ?? null, resumed: !!resumed } : {}),
      protocolVersion: client.version,
      clientId: client.id,
      username: username ?? null,
    };
    let returnCode = 0;
    if (users != null) {
      if (username == null || password == null) returnCode = noCredentialsCode;
      else if (!Object.hasOwn(users, username) || String(users[username]) !== password.toString('utf8')) {
        returnCode = badCredentialsCode;
      }
    }
    if (returnCode === 0) {
      record({ ...base, outcome: 'accepted' });
      cb(null, true);
      return;
    }
    record({
      ...base,
      outcome: returnCode === 5 ? 'not-authorized' : 'bad-credentials',
      returnCode,
      detail: RETURN_CODE_TEXT[returnCode] || 'refused',
    });
    const err = new Error(RETURN_CODE_TEXT[returnCode] || 'refused');
    err.returnCode = returnCode;
    cb(err, false);
  };

  // Recorded when the PUBLISH arrives (authorizePublish runs before Aedes routes it and before
  // the PUBACK); Aedes' own 'publish' event can come after the PUBACK when a subscriber exists.
  const authorizePublish = aedes.authorizePublish;
  aedes.authorizePublish = (client, packet, cb) => {
    authorizePublish.call(aedes, client, packet, (err) => {
      if (!err && client) {
        const entry = {
          topic: packet.topic,
          payload: Buffer.from(packet.payload),
          qos: packet.qos,
          retain: packet.retain,
          clientId: client.id,
          time: Date.now(),
          ...stamp(),
          messageId: packet.messageId ?? null,
          dup: !!packet.dup,
          acked: packet.qos > 0 ? false : null,
        };
        received.push(entry);
        if (packet.qos === 1 && client.conn) {
          if (!awaitingAck.has(client.conn)) awaitingAck.set(client.conn, new Map());
          awaitingAck.get(client.conn).set(packet.messageId, entry);
        }
        for (const w of watchers) w();
      }
      cb(err);
    });
  };
  // Errors of single clients (they disconnect, bad packets…) must not crash the test process.
  aedes.on('clientError', () => {});
  aedes.on('connectionError', () => {});

  const track = (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };

  // ---- PUBACKs: which PUBLISH got one, and withholding them (a broker that stops acknowledging)
  const awaitingAck = new WeakMap(); // connection → Map(messageId → received entry)
  const pubacks = { sent: 0, withheld: 0 };
  let withholding = false;
  // Length of the first complete MQTT packet in buf, or null if it is not all there yet.
  function packetLength(buf) {
    let mult = 1;
    let len = 0;
    for (let i = 1; i < 5; i++) {
      if (i >= buf.length) return null;
      len += (buf[i] & 0x7f) * mult;
      if (!(buf[i] & 0x80)) return buf.length >= i + 1 + len ? i + 1 + len : null;
      mult *= 128;
    }
    return buf.length; // malformed length: pass everything on
  }
  // Wraps the connection's write: Aedes writes whole packets through mqtt-packet (possibly in
  // pieces); the pieces are gathered into packets, PUBACKs are noted (or dropped while withheld),
  // everything else goes out unchanged and in order.
  function watchPubacks(conn) {
    const write = conn.write.bind(conn);
    let pending = Buffer.alloc(0);
    conn.write = (chunk, enc, cb) => {
      if (typeof enc === 'function') {
        cb = enc;
        enc = undefined;
      }
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, enc);
      pending = pending.length ? Buffer.concat([pending, buf]) : buf;
      const out = [];
      for (;;) {
        const n = packetLength(pending);
        if (n === null) break;
        const pkt = pending.subarray(0, n);
        pending = pending.subarray(n);
        if (pkt[0] >> 4 === 4 && pkt.length >= 4) {
          const id = pkt.readUInt16BE(pkt.length - 2);
          const map = awaitingAck.get(conn);
          const entry = map && map.get(id);
          if (map) map.delete(id);
          if (withholding) {
            pubacks.withheld++;
            if (entry) entry.withheld = true;
            continue;
          }
          pubacks.sent++;
          if (entry) entry.acked = true;
        }
        out.push(pkt);
      }
      if (!out.length) {
        if (cb) process.nextTick(cb);
        return true;
      }
      return write(out.length === 1 ? out[0] : Buffer.concat(out), cb);
    };
    return conn;
  }

  // ---- TLS listener -----------------------------------------------------------------------
  const tlsOptions = {
    key: pki.keyPem,
    cert: pki.certPem,
    minVersion: tlsMinVersion,
  };
  // OpenSSL 3 refuses TLS < 1.2 at its default security level; a broker deliberately configured
  // for old TLS (to show a test's client is really refused by the version) needs level 0.
  if (tlsMinVersion === 'TLSv1' || tlsMinVersion === 'TLSv1.1') tlsOptions.ciphers = 'DEFAULT:@SECLEVEL=0';
  if (tlsMaxVersion) tlsOptions.maxVersion = tlsMaxVersion;
  if (tlsCiphers) tlsOptions.ciphers = tlsCiphers;
  // RFC 5077 tickets are on in Node by default; SSL_OP_NO_TICKET turns them off
  if (!tickets) tlsOptions.secureOptions = (tlsOptions.secureOptions || 0) | cryptoConstants.SSL_OP_NO_TICKET;
  Object.assign(tlsOptions, extraTlsOptions);
  const tlsServer = tls.createServer(tlsOptions);
  // Session ids: Node's server keeps no session cache of its own; these handlers are the cache.
  // (A resumed handshake skips the certificate and key exchange: 'secureConnection' shows it by
  // isSessionReused().) The cache lives as long as this broker object: a stop()/start() keeps it,
  // as a broker behind a shared session cache would [inferred simplification].
  const sessionStore = new Map(); // session id (hex) → session data
  if (sessionIds) {
    tlsServer.on('newSession', (id, data, cb) => {
      sessionStore.set(id.toString('hex'), data);
      if (sessionStore.size > 1000) sessionStore.delete(sessionStore.keys().next().value);
      cb();
    });
    tlsServer.on('resumeSession', (id, cb) => cb(null, sessionStore.get(id.toString('hex')) || null));
  }
  tlsServer.on('secureConnection', (sock) => {
    track(sock);
    // a resumed TLS 1.2 session leaves sock.servername unset (OpenSSL gives the name of the
    // session, which Node does not read): use what the ClientHello carried
    const servername = sock.servername || sniOf(sock._parent) || null;
    if (requireSni && !servername) {
      // not reachable through the ClientHello check; kept as a second line of defence
      record({ transport: 'tls', servername, protocolVersion: null, clientId: null, username: null, outcome: 'no-sni' });
      sock.destroy();
      return;
    }
    meta.set(sock, {
      transport: 'tls',
      servername,
      tlsVersion: sock.getProtocol(),
      cipher: (sock.getCipher() || {}).name || null,
      resumed: sock.isSessionReused(),
    });
    aedes.handle(watchPubacks(sock));
  });
  tlsServer.on('tlsClientError', (err, sock) => {
    record({
      transport: 'tls',
      // a failed handshake leaves sock.servername unset: use what the ClientHello carried
      servername: (sock && (sock.servername || sniOf(sock._parent))) || null,
      protocolVersion: null,
      clientId: null,
      username: null,
      outcome: 'tls-error',
      detail: err.code || err.message,
    });
  });

  const { front, sniOf } = createSniFront({
    tlsServer,
    requireSni,
    track,
    onNoSni: () =>
      record({
        transport: 'tls',
        servername: null,
        protocolVersion: null,
        clientId: null,
        username: null,
        outcome: 'no-sni',
        detail: 'ClientHello without server_name; fatal alert unrecognized_name',
      }),
  });

  let plainServer = null;
  if (plain) {
    plainServer = net.createServer((sock) => {
      track(sock);
      meta.set(sock, { transport: 'plain', servername: null });
      aedes.handle(watchPubacks(sock));
    });
  }

  const listen = (srv, port = 0) =>
    new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.removeListener('error', reject);
        resolve(srv.address().port);
      });
    });

  const tlsPort = await listen(front);
  const plainPort = plainServer ? await listen(plainServer) : null;

  const waitFor = (pred, ms, what) => waitUntil(watchers, pred, ms, `broker: ${what}`);

  // ---- restart (the process dies, then runs again on the same ports) ----
  let down = false;
  let closed = false;
  const restarts = []; // { stoppedAt, startedAt } (virtual ms with clock, else Date.now())
  const startHooks = new Set();
  const nowMs = () => (clock ? clock.now() : Date.now());
  const realSleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const hold = () => (clock ? clock.hold() : () => {});

  async function stop() {
    if (down || closed) return;
    down = true;
    restarts.push({ stoppedAt: nowMs(), startedAt: null });
    const release = hold();
    try {
      // a process that dies publishes no will
      for (const c of Object.values(aedes.clients)) c.will = null;
      const servers = [front, plainServer].filter(Boolean);
      const closing = servers.map((srv) => new Promise((r) => (srv.listening ? srv.close(() => r()) : r())));
      for (const so of sockets) so.destroy();
      await Promise.all(closing);
      for (let i = 0; i < 2000 && Object.keys(aedes.clients).length; i++) await realSleep(1);
    } finally {
      release();
    }
  }

  async function start() {
    if (!down || closed) return;
    const release = hold();
    try {
      // the same ports (SO_REUSEADDR is Node's default on listening sockets); retried briefly in
      // case the port is still being let go
      for (const [srv, port] of [
        [front, tlsPort],
        [plainServer, plainPort],
      ]) {
        if (!srv) continue;
        for (let attempt = 0; ; attempt++) {
          try {
            await listen(srv, port);
            break;
          } catch (err) {
            if (attempt >= 50) throw err;
            await realSleep(10);
          }
        }
      }
      down = false;
      restarts[restarts.length - 1].startedAt = nowMs();
      for (const fn of startHooks) await fn();
    } finally {
      release();
    }
  }

  /** stop(), then start() downMs later (on the clock if given: someone must run it) */
  async function restart({ downMs = 0 } = {}) {
    await stop();
    await new Promise((r) => (clock ? clock.setTimeout(r, downMs) : setTimeout(r, downMs)));
    await start();
  }

  async function close() {
    if (closed) return;
    closed = true;
    for (const s of sockets) s.destroy();
    await Promise.all([front, plainServer, tlsServer].filter(Boolean).map((s) => new Promise((r) => (s.listening ? s.close(() => r()) : r()))));
    await new Promise((r) => aedes.close(() => r()));
  }

  return {
    host,
    tlsPort,
    plainPort,
    aedes,
    pki,
    users: users ?? null,
    events,
    received,
    /** resolves with the first event matching pred (already recorded or still to come) */
    waitForEvent: (pred, ms = 5000) => waitFor(() => events.find(pred), ms, 'a connect event'),
    /** resolves with `received` once it holds at least n messages (optionally matching pred) */
    waitForReceived: (n, ms = 5000, pred = () => true) =>
      waitFor(() => (received.filter(pred).length >= n ? received.filter(pred) : null), ms, `${n} published message(s)`),
    _internalIds: internalIds,
    close,
    /** the broker process dies: connections cut (no will), the ports refuse connections */
    stop,
    /** the broker runs again on the same ports; then the onStart hooks run (awaited) */
    start,
    restart,
    /** fn() after every start(), e.g. to reconnect a helper subscriber; returns an unsubscribe */
    onStart(fn) {
      startHooks.add(fn);
      return () => startHooks.delete(fn);
    },
    get isDown() {
      return down;
    },
    restarts,
    /** session ids the broker keeps for resumption (id hex → session); clear() forgets them all */
    sessions: sessionStore,
    /** the tls.Server behind the SNI front (for 'keylog', ticket keys, …) */
    tlsServer,
    /** true: PUBLISH packets are still taken, their PUBACKs are never sent; false: normal again */
    withholdPubacks(on = true) {
      withholding = !!on;
    },
    get withholding() {
      return withholding;
    },
    pubacks,
  };
}

/**
 * subscribe(broker, topic, opts?) → Promise<{ client, messages, waitFor(n, ms), close() }>
 * A normal MQTT 3.1.1 client (npm `mqtt`) on the broker's TLS port with SNI (default 'localhost',
 * or opts.servername) and the CA of the broker's PKI, subscribed to `topic` (string or array) at
 * QoS 1. Credentials: opts.username/password, else the first entry of broker.users.
 * messages: [{ topic, payload: Buffer, text, qos, retain, time }]. Its connect is recorded in
 * broker.events with internal: true.
 */
export async function subscribe(broker, topic, opts = {}) {
  const first = broker.users ? Object.entries(broker.users)[0] : undefined;
  const clientId = opts.clientId || `collector-${randomBytes(4).toString('hex')}`;
  broker._internalIds.add(clientId);
  const messages = [];
  const waiters = new Set();
  let client = null;
  async function connect() {
    const c = await mqtt.connectAsync({
      host: broker.host,
      port: broker.tlsPort,
      protocol: 'mqtts',
      ca: broker.pki.caPem,
      servername: opts.servername || 'localhost',
      rejectUnauthorized: true,
      protocolVersion: 4,
      clientId,
      username: opts.username ?? (first ? first[0] : undefined),
      password: opts.password ?? (first ? String(first[1]) : undefined),
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    c.on('error', () => {}); // a broker restart cuts it; reconnect() makes a new one
    c.on('message', (t, payload, packet) => {
      messages.push({ topic: t, payload, text: payload.toString('utf8'), qos: packet.qos, retain: packet.retain, time: Date.now() });
      for (const w of waiters) w();
    });
    await c.subscribeAsync(topic, { qos: opts.qos ?? 1 });
    client = c;
  }
  await connect();

  function waitFor(n = 1, ms = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (messages.length >= n) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(messages.slice());
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `subscribe(${JSON.stringify(topic)}): got ${messages.length} of ${n} message(s) in ${ms} ms` +
              (messages.length ? `: ${messages.map((m) => `${m.topic} ${m.text.slice(0, 80)}`).join(' | ')}` : ''),
          ),
        );
      }, ms);
      waiters.add(check);
      check();
    });
  }

  return {
    get client() {
      return client;
    },
    messages,
    waitFor,
    /** a new connection and subscription (after broker.stop()/start()); messages keep accumulating */
    async reconnect() {
      const old = client;
      if (old) await old.endAsync(true).catch(() => {});
      await connect();
    },
    close: () => client.endAsync(),
  };
}

/** Same as subscribe(); the name some callers prefer. */
export const collect = subscribe;
