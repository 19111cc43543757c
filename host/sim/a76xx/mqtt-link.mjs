// The modem's internal MQTT client: one real connection to a real broker through `mqtt` (npm).
// The socket (TCP or TLS) is opened here first, so that each failure can be given the A76xx
// <err> code of the phase it happened in (A76-ATM §18.3.1; field notes in modem-facts.md §A.6):
//   TCP refused/unreachable            -> 3  sock connect fail
//   TLS handshake failure              -> 32 handshake fail
//   server certificate not accepted    -> 34 open session failed (the field code for wrong CA/SNI)
//   CONNACK return code 1..5           -> 27..31
//   closed by the server before CONNACK-> 26 socket closed by server
//   nothing within the real-time guard -> 17 timeout
// Only then is the MqttClient created on top of the open socket (streamBuilder).
// Real I/O runs under clock.hold(), so virtual time stands still while the broker answers; a
// real-time guard releases the hold so a silent broker cannot freeze the clock.

import net from 'node:net';
import tls from 'node:tls';
import { MqttClient } from 'mqtt';
import { MQTT_ERR, CONNLOST } from './errors.mjs';
import { holdFor } from '../common/hold.mjs';

const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/**
 * @param o.address {host, port} where to connect for real
 * @param o.urlHost the host name of the CMQTTCONNECT URL (for SNI / hostname check)
 * @param o.tls null for server_type 0, else { servername?, ca?, cert?, key?, passphrase?,
 *   verifyServer, checkHostname, ignoreTime, minVersion, maxVersion, ciphers }
 * @param o.mqtt options for MqttClient (clientId, protocolId, protocolVersion, keepalive, clean, ...)
 * @param o.onResult(err, phase) once: 0 on CONNACK accepted, else an A76xx <err>; phase 'tls' when
 *   the real-time guard ran out during the TLS handshake
 * @param o.onMessage(topicBytes, payloadBytes) binary strings
 * @param o.onLost(cause) the connection dropped after it was up (not by disconnect())
 */
export function openLink(o) {
  const { clock, realWaitMs = 5000 } = o;
  let sock = null;
  let client = null;
  let state = 'connecting'; // connecting | up | closing | closed
  let lastSockError = null;
  let dropCause = null;
  let settled = false;

  let tcpUp = false;
  let secured = false;
  // nothing within the real-time guard: a TLS server that took the TCP connection but never
  // finished the handshake is told apart ('tls'), the modem's negotiatetime applies to it
  const finish = holdFor(clock, realWaitMs, () => settle(MQTT_ERR.TIMEOUT, o.tls && tcpUp && !secured ? 'tls' : undefined));

  function settle(err, phase) {
    if (settled) return;
    settled = true;
    finish();
    if (err !== 0) {
      state = 'closed';
      if (client) client.end(true);
      if (sock) sock.destroy();
    } else state = 'up';
    o.onResult(err, phase);
  }

  function startMqtt() {
    client = new MqttClient(() => sock, {
      ...o.mqtt,
      reconnectPeriod: 0,
      connectTimeout: realWaitMs,
      resubscribe: false,
    });
    client.on('connect', () => settle(0));
    client.on('error', (e) => {
      if (typeof e.code === 'number' && e.code >= 1 && e.code <= 5) settle(MQTT_ERR.CONNACK_BASE + e.code);
      else if (e.code) lastSockError = e;
    });
    client.on('message', (topic, payload) => {
      if (state !== 'up') return;
      o.onMessage(Buffer.from(topic, 'utf8').toString('latin1'), Buffer.from(payload).toString('latin1'));
    });
    client.on('close', () => {
      if (!settled) return settle(MQTT_ERR.CLOSED_BY_SERVER);
      if (state === 'up') {
        state = 'closed';
        const cause = dropCause ?? (lastSockError && lastSockError.code === 'ECONNRESET' ? CONNLOST.RESET : CONNLOST.CLOSED_BY_PEER);
        o.onLost(cause);
      }
      state = 'closed';
    });
  }

  const { host, port } = o.address;
  if (!o.tls) {
    sock = net.connect({ host, port });
    sock.once('connect', startMqtt);
    sock.on('error', (e) => {
      lastSockError = e;
      if (!client) settle(MQTT_ERR.SOCK_CONNECT);
    });
  } else {
    const t = o.tls;
    sock = tls.connect({
      host,
      port,
      servername: t.servername, // undefined -> Node sends no SNI
      ca: t.ca,
      cert: t.cert,
      key: t.key,
      passphrase: t.passphrase,
      minVersion: t.minVersion,
      maxVersion: t.maxVersion,
      ciphers: t.ciphers,
      // verification is done below so that ignorelocaltime and the SNI-dependent hostname check
      // can be honoured; Node's own hostname check (against the IP we dial) is switched off
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    sock.once('connect', () => (tcpUp = true));
    sock.once('secureConnect', () => {
      secured = true;
      if (t.verifyServer) {
        const e = sock.authorizationError;
        if (e && !(t.ignoreTime && DATE_ERRORS.has(String(e)))) return settle(MQTT_ERR.OPEN_SESSION);
        if (t.checkHostname && tls.checkServerIdentity(t.checkHostname, sock.getPeerCertificate())) {
          return settle(MQTT_ERR.OPEN_SESSION);
        }
      }
      startMqtt();
    });
    sock.on('error', (e) => {
      lastSockError = e;
      if (!client) settle(tcpUp || e.code !== 'ECONNREFUSED' ? MQTT_ERR.HANDSHAKE : MQTT_ERR.SOCK_CONNECT);
    });
    sock.on('close', () => {
      if (!secured) settle(tcpUp ? MQTT_ERR.HANDSHAKE : MQTT_ERR.SOCK_CONNECT);
    });
  }

  // Runs op(cb) under a hold; cb(err) once with the operation result (err null = ok), or the
  // hold is released after realWaitMs and the caller's virtual timeout decides.
  function held(op, cb) {
    let done = false;
    const fin = holdFor(clock, realWaitMs);
    op((err) => {
      if (done) return;
      done = true;
      fin();
      cb(err);
    });
  }

  return {
    get up() {
      return state === 'up';
    },
    publish(topic, payload, { qos, retain, dup }, cb) {
      if (state !== 'up') return cb(new Error('not connected'));
      held((k) => client.publish(topic, payload, { qos, retain: !!retain, dup: !!dup }, k), cb);
    },
    subscribe(list, cb) {
      if (state !== 'up') return cb(new Error('not connected'));
      const map = {};
      for (const s of list) map[s.topic] = { qos: s.qos };
      held(
        (k) =>
          client.subscribe(map, (err, granted) => {
            if (err) return k(err);
            if (granted && granted.some((g) => g.qos === 128)) return k(new Error('SUBACK failure'));
            k(null);
          }),
        cb,
      );
    },
    unsubscribe(topics, cb) {
      if (state !== 'up') return cb(new Error('not connected'));
      held((k) => client.unsubscribe(topics, (err) => k(err || null)), cb);
    },
    disconnect(cb) {
      if (state !== 'up') {
        destroy();
        return cb(null);
      }
      state = 'closing';
      // The modem sends DISCONNECT now: publishes still waiting for a PUBACK (one that timed out
      // with +CMQTTPUB: <idx>,17, say) are given up, not waited for as mqtt.js's end() would.
      for (const id of Object.keys(client.outgoing || {})) client.removeOutgoingMessage(Number(id));
      held(
        (k) => client.end(false, {}, () => k(null)),
        (err) => {
          state = 'closed';
          cb(err);
        },
      );
    },
    /**
     * fault injection: the server side goes away; onLost(cause) is called now (not when the real
     * socket's close event comes, which in virtual time could be arbitrarily late: the clock does
     * not wait for it, and a command sent meanwhile would find a dead link)
     */
    drop(cause) {
      if (state !== 'up') return false;
      dropCause = cause;
      state = 'closed';
      if (client) client.end(true);
      sock.destroy();
      o.onLost(cause);
      return true;
    },
    destroy,
  };

  function destroy() {
    state = 'closed';
    settled = true;
    finish();
    if (client) client.end(true);
    if (sock) sock.destroy();
  }
}
