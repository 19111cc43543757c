// A small MQTT 3.1.1 client over any byte transport (the SIM800L's TCP socket): the caller opens
// the transport, passes its data to received() and its end to closed(), and closes it when the
// client's state becomes 'closed'. QoS 0 and 1 only (the config's qos is 0 or 1). No retransmission:
// with a clean session, a QoS 1 publish not acknowledged before the connection ends has failed
// (its callback says so) and the caller publishes it again on the next connection.
//
// Timers: Espruino reuses timer ids, so an id is zeroed when its timer fires or is cleared and
// never cleared twice (ids start at 1; 0 means none).

import {
  parse,
  ParseState,
  MqttPacket,
  ConnectOptions,
  encodeConnect,
  encodePublish,
  encodePuback,
  encodeSubscribe,
  encodePingreq,
  encodeDisconnect,
  CONNACK,
  PUBLISH,
  PUBACK,
  SUBACK,
  PINGRESP,
} from './packet';

export type MqttState = 'connecting' | 'connected' | 'closed';
export type MqttCallback = (err: string | null, granted?: number[]) => void;

/** The CONNECT fields (keepalive 0 = no pings), plus the transport and the callbacks. */
export interface MqttClientOptions extends ConnectOptions {
  write(data: string): void;
  onMessage?(topic: string, payload: string, qos: number, retain: boolean): void;
  onState?(state: MqttState, why: string): void;
  /** ms to wait for CONNACK, PUBACK, SUBACK, PINGRESP (default 30000) */
  timeout?: number;
  /** the largest packet accepted from the server (default 4096 bytes) */
  maxPacket?: number;
}

export interface MqttClient {
  /** send CONNECT over the (open) transport */
  connect(): void;
  /** cb(null) when written (QoS 0) or acknowledged (QoS 1); cb(error) otherwise */
  publish(topic: string, payload: string, qos: number, cb?: MqttCallback, retain?: boolean): void;
  /** cb(null, granted) on SUBACK; cb('refused: …') if any topic got 0x80 */
  subscribe(topics: string | string[], qos: number, cb?: MqttCallback): void;
  /** transport data in */
  received(chunk: string): void;
  /** the transport has closed */
  closed(): void;
  /** send DISCONNECT; the state becomes 'closed' */
  disconnect(): void;
  state(): MqttState;
}

interface Pending {
  cb?: MqttCallback;
  t: number;
  /** SUBACK expected (else PUBACK) */
  s: boolean;
}

// RAM: one client lives through the whole session, so it has as few functions as it can (each is
// ~5 JsVars + 1 per parameter at rest); the CONNACK reasons are made only on a refusal.
export function createMqttClient(o: MqttClientOptions): MqttClient {
  var st: MqttState = 'closed';
  var pend: { [id: string]: Pending } = {};
  var nextId = 0;
  var pingT = 0; // next PINGREQ
  var waitT = 0; // CONNACK or PINGRESP deadline
  var tmo = o.timeout || 30000;
  var ps: ParseState = ['', 0]; // the parser's state (packet.ts parse)

  /** clears a timer (if any) and gives 0 for its id */
  function clr(t: number): number {
    if (t) clearTimeout(t);
    return 0;
  }

  function end(why: string): void {
    if (st === 'closed') return;
    waitT = clr(waitT);
    pingT = clr(pingT);
    ps[0] = '';
    ps[1] = 0;
    var p = pend;
    pend = {};
    st = 'closed';
    for (var k in p) {
      clr(p[k].t);
      if (p[k].cb) (p[k].cb as MqttCallback)(why);
    }
    st = 'closed';
    if (o.onState) o.onState(st, why);
  }

  // every write restarts the keepalive period
  function send(data: string): void {
    if (st === 'connected' && o.keepalive) {
      pingT = clr(pingT);
      pingT = setTimeout(function () {
        pingT = 0;
        send(encodePingreq());
        if (!waitT)
          waitT = setTimeout(function () {
            waitT = 0;
            end('no PINGRESP');
          }, tmo);
      }, o.keepalive * 1000);
    }
    if (data) o.write(data);
  }

  /** a free packet id, waited for (SUBACK if s, else PUBACK) until the timeout */
  function track(s: boolean, cb?: MqttCallback): number {
    do nextId = (nextId % 65535) + 1;
    while (pend[nextId]);
    var id = nextId;
    pend[id] = {
      cb: cb,
      s: s,
      t: setTimeout(function () {
        var p = pend[id];
        delete pend[id];
        if (p && p.cb) p.cb('timeout');
      }, tmo),
    };
    return id;
  }

  function onPacket(err: string | null, p?: MqttPacket): void {
    if (err || !p) return end('protocol error: ' + err);
    var t = p.type;
    if (st === 'connecting') {
      if (t !== CONNACK) return end('expected CONNACK, got type ' + t);
      waitT = clr(waitT);
      var c = p.code as number;
      if (c)
        return end(
          'refused: ' +
            c +
            ' ' +
            (['', 'bad protocol version', 'client id rejected', 'server unavailable', 'bad user name or password', 'not authorized'][c] || ''),
        );
      st = 'connected';
      if (o.onState) o.onState(st, p.session ? 'session present' : '');
      send(''); // starts the keepalive period (nothing is written)
      return;
    }
    if (st !== 'connected') return;
    if (t === PUBLISH) {
      if ((p.qos as number) > 1) return end('protocol error: QoS 2 PUBLISH');
      if (p.qos) send(encodePuback(p.id as number));
      if (o.onMessage) o.onMessage(p.topic as string, p.payload as string, p.qos as number, !!p.retain);
    } else if (t === PUBACK || t === SUBACK) {
      var s = t === SUBACK;
      var q = pend[p.id as number];
      if (!q || q.s !== s) return; // unknown or late: ignore
      delete pend[p.id as number];
      clr(q.t);
      var g = p.granted as number[];
      if (q.cb) q.cb(s && g.indexOf(0x80) >= 0 ? 'refused: ' + g.join() : null, g);
    } else if (t === PINGRESP) {
      waitT = clr(waitT);
    }
    // UNSUBACK and the QoS 2 acknowledgements: nothing waits for them
  }

  return {
    connect: function () {
      end('reconnect');
      ps[0] = '';
      ps[1] = 0;
      st = 'connecting';
      if (o.onState) o.onState(st, '');
      waitT = setTimeout(function () {
        waitT = 0;
        end('no CONNACK');
      }, tmo);
      send(encodeConnect(o));
    },
    publish: function (topic, payload, qos, cb, retain) {
      if (st !== 'connected') {
        if (cb) cb('not connected');
        return;
      }
      send(encodePublish(topic, payload, qos, qos ? track(false, cb) : 0, retain));
      if (!qos && cb) cb(null);
    },
    subscribe: function (topics, qos, cb) {
      if (st !== 'connected') {
        if (cb) cb('not connected');
        return;
      }
      send(encodeSubscribe(track(true, cb), typeof topics === 'string' ? [topics] : topics, qos));
    },
    received: function (chunk) {
      if (st !== 'closed') parse(ps, chunk, o.maxPacket || 4096, onPacket);
    },
    closed: function () {
      end('transport closed');
    },
    disconnect: function () {
      if (st === 'closed') return;
      o.write(encodeDisconnect());
      end('disconnect');
    },
    state: function () {
      return st;
    },
  };
}
