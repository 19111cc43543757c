// MQTT on the SIM800: cellpub's own MQTT 3.1.1 client (mqtt/client.ts) over the modem's TCP
// link 0 (socket.ts), with the same functions as the A76xx's built-in stack (driver.ts).
// One session at a time, so the state lives in this module.
//
// The client writes packets whenever it likes; CIPSEND takes one at a time, so writes go out
// through a queue in order. A new connect first ends the old session and closes the link: a
// CIPSTART on a link still open would answer ALREADY CONNECT and reuse the old TCP connection.

import type { At } from '../../at/engine';
import type { BrokerConfig } from '../../config';
import type { Socket } from '../../mqtt-client/socket';
import { atError } from '../../at/errors';
import { createSim800Socket } from './socket';
import { brokerTls } from '../../tls/broker-tls';
import { createMqttClient, MqttClient } from '../../mqtt-client/client';
import { log } from '../../log';
import { SESSION_LOST, DATA_LOST, MODEM_LOST } from '../causes';

let sock: Socket | null = null;
let client: MqttClient | null = null;
let linked = false; // link 0 is open (or opening)
let connectDone: ((err: string | null) => void) | null = null;
let onMsg = function (topic: string, payload: string) {};
let onLost = function (why: string, cause: number) {};
let lostCause = SESSION_LOST; // set by the socket's reason for closing
let out: string[] = [];
let writing = false;
let whenFlushed: (() => void) | null = null;

/** Queues a packet (if any) and sends the next one when none is in flight. */
function write(data?: string) {
  if (data) out.push(data);
  if (writing) return;
  if (!out.length) {
    const f = whenFlushed;
    whenFlushed = null;
    if (f) f();
    return;
  }
  writing = true;
  sock!.send(out.shift()!, function (err) {
    writing = false;
    if (err) {
      log('socket: send failed: ' + err);
      out = [];
      if (client) client.closed();
    }
    write();
  });
}

function closeLink(cb: () => void) {
  if (!linked) return cb();
  linked = false;
  sock!.close(cb);
}

/** Ends the current session (DISCONNECT if it is up), then closes the link. Also the driver's
 *  mqttDisconnect and mqttReset (recovery: the session ended and link 0 closed, whatever state
 *  they are in). */
function drop(at: At, cb: () => void) {
  const c = client;
  client = null;
  if (c && c.state() == 'connected') {
    c.disconnect();
    whenFlushed = function () {
      closeLink(cb);
    };
    return write();
  }
  out = [];
  closeLink(cb);
}
export { drop as mqttDisconnect, drop as mqttReset };

function socketFor(at: At): Socket {
  if (!sock) {
    // cellpub's TLS 1.2 over the plain socket (broker.tlsStack "cellpub"); else the modem's own
    sock = __TLS__ ? brokerTls(createSim800Socket(at)) : createSim800Socket(at);
    sock.onData = function (d) {
      if (client) client.received(d);
    };
    sock.onClose = function (why) {
      linked = false;
      log('socket: ' + why);
      // after +PDP: DEACT no new link opens until the context is brought up again
      lostCause = why.indexOf('PDP') >= 0 ? DATA_LOST : SESSION_LOST;
      if (client) client.closed();
    };
  }
  return sock;
}

// RAM: the session's callbacks (the client's, the socket's) must not hold the caller's callback
// chain, so they are made in module-level functions passed as callbacks (linkUp, opened), which the
// bundler leaves at the top level (it moves a function used once into its caller, closures and all).
let pending: [BrokerConfig, string | undefined, { topic: string; payload: string } | null] | null = null;

export function mqttConnect(
  at: At,
  b: BrokerConfig,
  password: string | undefined,
  will: { topic: string; payload: string } | null,
  done: (err: string | null) => void,
) {
  socketFor(at);
  pending = [b, password, will];
  connectDone = done;
  drop(at, linkUp);
}

function linkUp() {
  const b = pending![0];
  linked = true;
  sock!.open(b.host, b.port, b.tls, opened);
}

function opened(err: string | null) {
  const b = pending![0];
  const will = pending![2];
  const d = connectDone!;
  if (err) {
    linked = false;
    connectDone = pending = null;
    return d(
      err +
        ': check broker.host and broker.port, and that the broker takes ' +
        (b.tls ? (__TLS__ ? 'TLS 1.2' : 'TLS 1.0 without SNI') : 'plain MQTT') +
        ' there',
    );
  }
  const c: MqttClient = createMqttClient({
    write: write,
    clientId: b.clientId,
    keepalive: b.keepalive,
    clean: b.cleanSession,
    will: will ? { topic: will.topic, message: will.payload, qos: 1 } : undefined,
    username: b.username,
    password: pending![1],
    onMessage: function (topic, payload) {
      onMsg(topic, payload);
    },
    onState: function (st, why) {
      if (c != client || st == 'connecting') return; // or a session already dropped
      const d = connectDone;
      connectDone = null;
      if (st == 'connected') {
        if (d) d(null);
        return;
      }
      client = null;
      out = [];
      closeLink(function () {});
      if (!d) onLost(why, lostCause);
      else if (why.indexOf('refused: ') == 0) {
        // 'refused: 5 not authorized' → the same meaning and hint the A76xx's error 31 gives
        const e = atError('', 'mqtt', 26 + parseInt(why.substr(9), 10));
        d('MQTT CONNECT: the broker refused the session (' + e.msg + ')' + (e.hint ? ': ' + e.hint : ''));
      } else d('MQTT CONNECT: ' + why);
      lostCause = SESSION_LOST;
    },
  });
  pending = null;
  client = c;
  c.connect();
}

export function mqttSubscribe(at: At, topics: string[], qos: number, done: (err: string | null) => void) {
  if (!client) return done('MQTT SUBSCRIBE: not connected');
  client.subscribe(topics, qos, function (err) {
    done(err ? 'MQTT SUBSCRIBE: ' + err : null);
  });
}

export function mqttPublish(at: At, topic: string, payload: string, qos: number, retain: boolean, done: (err: string | null) => void) {
  if (!client) return done('MQTT PUBLISH: not connected');
  client.publish(
    topic,
    payload,
    qos,
    function (err) {
      done(err ? 'MQTT PUBLISH: ' + err : null);
    },
    retain,
  );
}

export function mqttListen(at: At, onMessage: (topic: string, payload: string) => void, lost: (why: string, cause: number) => void) {
  socketFor(at);
  onMsg = onMessage;
  onLost = lost;
  // The modem switched itself off (SIM800L-HW §4.2.2: PWRKEY or CPOWD "NORMAL POWER DOWN", with
  // AT+CBATCHK=1 "UNDER-VOLTAGE POWER DOWN" below 3.4 V): nothing in flight will be answered, so
  // it fails now, and the ladder powers the modem up again (its power-cycle rung).
  const down = function (l: string) {
    linked = false;
    onLost(l, MODEM_LOST);
    at.abort(l);
    if (client) client.closed();
  };
  at.on('NORMAL POWER DOWN', down);
  at.on('UNDER-VOLTAGE POWER DOWN', down);
}
