// MQTT 3.1.1 packets (OASIS mqtt-v3.1.1-os) as binary strings, one char per byte, which is what
// Espruino's sockets and serial ports give and take. For modems without an MQTT stack (SIM800L):
// the firmware speaks MQTT itself over the modem's TCP socket.
//
// Strings (topics, client id, username, password, will) are taken as bytes: each char must be
// 0..255 and is sent as that byte, and the length prefix counts bytes. Espruino's strings are byte
// strings; topics and ids are printable ASCII by the config, so no UTF-8 encoding happens here.
// Payloads are binary strings too.
//
// Remaining length: the full 1 to 4 byte variable length (0 .. 268,435,455) is encoded and decoded.
// What the config allows needs at most 3 bytes: a PUBLISH carries a topic of at most 1024 bytes plus
// a readings payload of a few KB; CONNECT at most ~2 KB (client id 128, SAS token password, will).
// The parser keeps at most `max` bytes of one packet (default 4096; a larger packet is reported and
// skipped without being buffered).

/** Control packet types (fixed header, high nibble). */
export var CONNECT = 1,
  CONNACK = 2,
  PUBLISH = 3,
  PUBACK = 4,
  SUBSCRIBE = 8,
  SUBACK = 9,
  UNSUBSCRIBE = 10,
  UNSUBACK = 11,
  PINGREQ = 12,
  PINGRESP = 13,
  DISCONNECT = 14;

/** A decoded packet from the server. Fields present by type. */
export interface MqttPacket {
  type: number;
  /** packet identifier: PUBLISH QoS 1/2, PUBACK/PUBREC/PUBREL/PUBCOMP, SUBACK, UNSUBACK */
  id?: number;
  /** CONNACK */
  session?: boolean;
  code?: number;
  /** PUBLISH (topic and payload as binary strings) */
  topic?: string;
  payload?: string;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  /** SUBACK: granted QoS per topic, 0x80 = refused */
  granted?: number[];
}

export interface MqttWill {
  topic: string;
  message: string;
  qos?: number;
  retain?: boolean;
}

export interface ConnectOptions {
  clientId: string;
  /** seconds, 0 = off */
  keepalive: number;
  /** clean session (default true) */
  clean?: boolean;
  will?: MqttWill;
  username?: string;
  password?: string;
}

function chr(n: number): string {
  return String.fromCharCode(n);
}

/** 16-bit big-endian */
export function u16(n: number): string {
  return chr((n >> 8) & 255) + chr(n & 255);
}

/** A length-prefixed string (its chars taken as bytes). */
export function str(s: string): string {
  return u16(s.length) + s;
}

/** The remaining-length varint, 1 to 4 bytes (n up to 268,435,455). */
export function encodeLength(n: number): string {
  var r = '';
  do {
    var b = n % 128;
    n = Math.floor(n / 128);
    r += chr(n > 0 ? b | 128 : b);
  } while (n > 0);
  return r;
}

function pkt(first: number, body: string): string {
  return chr(first) + encodeLength(body.length) + body;
}

/** A password without a user name is left out (3.1.1 allows none). */
export function encodeConnect(o: ConnectOptions): string {
  var w = o.will;
  var user = o.username !== undefined;
  var pass = user && o.password !== undefined; // 3.1.1 §3.1.2.9: no password without a user name
  var flags = (o.clean === false ? 0 : 2) | (w ? 4 | ((w.qos || 0) << 3) | (w.retain ? 32 : 0) : 0) | (pass ? 64 : 0) | (user ? 128 : 0);
  var body = str('MQTT') + chr(4) + chr(flags) + u16(o.keepalive) + str(o.clientId);
  if (w) body += str(w.topic) + str(w.message);
  if (user) body += str(o.username as string);
  if (pass) body += str(o.password as string);
  return pkt(0x10, body);
}

/** id is needed (1..65535) for qos 1 only */
export function encodePublish(topic: string, payload: string, qos: number, id: number, retain?: boolean, dup?: boolean): string {
  return pkt(0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), str(topic) + (qos ? u16(id) : '') + payload);
}

export function encodePuback(id: number): string {
  return chr(0x40) + chr(2) + u16(id);
}

/** topics with one QoS each (qos[i], or qos itself when a number) */
export function encodeSubscribe(id: number, topics: string[], qos: number | number[]): string {
  var body = u16(id);
  for (var i = 0; i < topics.length; i++) body += str(topics[i]) + chr(typeof qos === 'number' ? qos : qos[i]);
  return pkt(0x82, body);
}

export function encodeUnsubscribe(id: number, topics: string[]): string {
  var body = u16(id);
  for (var i = 0; i < topics.length; i++) body += str(topics[i]);
  return pkt(0xa2, body);
}

export function encodePingreq(): string {
  return '\xc0\x00';
}

export function encodeDisconnect(): string {
  return '\xe0\x00';
}

function rd16(s: string, i: number): number {
  return (s.charCodeAt(i) << 8) | s.charCodeAt(i + 1);
}

/**
 * One whole packet's type/flags byte and body (the bytes after the remaining length) to a packet,
 * or a string saying what is wrong. Only what a server sends to a 3.1.1 client is accepted.
 */
export function decodeBody(h: number, b: string): MqttPacket | string {
  var type = h >> 4;
  var flags = h & 15;
  var n = b.length;
  if (type === PUBLISH) {
    var qos = (flags >> 1) & 3;
    if (qos === 3) return 'PUBLISH with QoS 3';
    if (n < 2) return 'PUBLISH too short';
    var tl = rd16(b, 0);
    var at = 2 + tl + (qos ? 2 : 0);
    if (at > n) return 'PUBLISH too short';
    var p: MqttPacket = { type: type, topic: b.substr(2, tl), payload: b.substr(at), qos: qos, retain: !!(flags & 1), dup: !!(flags & 8) };
    if (qos) p.id = rd16(b, 2 + tl);
    return p;
  }
  // PUBREL's flags are 0010, every other server packet's 0000
  if (flags !== (type === 6 ? 2 : 0)) return 'bad flags ' + flags + ' for type ' + type;
  if (type === CONNACK) {
    if (n !== 2) return 'CONNACK length ' + n;
    var f = b.charCodeAt(0);
    if (f > 1) return 'CONNACK flags ' + f;
    return { type: type, session: f === 1, code: b.charCodeAt(1) };
  }
  // PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK: a packet id only
  if ((type >= PUBACK && type <= 7) || type === UNSUBACK) {
    if (n !== 2) return 'type ' + type + ' length ' + n;
    return { type: type, id: rd16(b, 0) };
  }
  if (type === SUBACK) {
    if (n < 3) return 'SUBACK too short';
    var g: number[] = [];
    for (var i = 2; i < n; i++) {
      var c = b.charCodeAt(i);
      if (c > 2 && c !== 0x80) return 'SUBACK code ' + c;
      g.push(c);
    }
    return { type: type, id: rd16(b, 0), granted: g };
  }
  if (type === PINGRESP) {
    if (n) return 'PINGRESP length ' + n;
    return { type: type };
  }
  return 'unexpected packet type ' + type;
}

export interface MqttParser {
  /** bytes from the transport, any chunking */
  feed(chunk: string): void;
  /** drop whatever is buffered (a new connection) */
  reset(): void;
  /** bytes buffered now (for tests: never more than max + 5) */
  buffered(): number;
}

/**
 * A streaming parser. onPacket(null, packet) per packet; onPacket(message) for a packet it cannot
 * decode. A packet longer than `max` bytes (remaining length) is reported and its bytes skipped as
 * they arrive; a malformed packet of known length is reported and skipped; a malformed length
 * (5-byte varint) is reported and everything buffered is dropped (the stream is lost: close it).
 * feed() does not throw itself; an exception from onPacket goes to feed's caller, with the parser
 * left consistent.
 */
export function createParser(onPacket: (err: string | null, p?: MqttPacket) => void, max?: number): MqttParser {
  var s: ParseState = ['', 0];
  var cap = max || 4096;
  return {
    feed: function (chunk) {
      parse(s, chunk, cap, onPacket);
    },
    reset: function () {
      s[0] = '';
      s[1] = 0;
    },
    buffered: function () {
      return s[0].length;
    },
  };
}

/** A parser's state: [the bytes buffered, the bytes of an over-long packet still to skip]. */
export type ParseState = [string, number];

/**
 * createParser's feed, on a state the caller keeps (the MQTT client keeps its own: no parser
 * object and closures alive through a session). The state is read and written in place, so
 * onPacket may empty it (s[0] = '', s[1] = 0: the loop stops) and an exception leaves it consistent.
 */
export function parse(s: ParseState, chunk: string, cap: number, onPacket: (err: string | null, p?: MqttPacket) => void): void {
  if (s[1]) {
    var k = Math.min(s[1], chunk.length);
    s[1] -= k;
    chunk = chunk.substr(k);
  }
  s[0] += chunk;
  while (s[0].length >= 2) {
    var buf = s[0];
    // remaining length: 1..4 bytes from offset 1
    var len = 0,
      mul = 1,
      i = 1,
      c = 128;
    while (c & 128) {
      if (i > 4) {
        s[0] = '';
        return onPacket('malformed remaining length');
      }
      if (i >= buf.length) return; // need more bytes
      c = buf.charCodeAt(i++);
      len += (c & 127) * mul;
      mul *= 128;
    }
    var total = i + len;
    if (len > cap) {
      s[1] = Math.max(0, total - buf.length);
      s[0] = buf.substr(total);
      onPacket('packet of ' + len + ' bytes is over the limit of ' + cap);
      continue;
    }
    if (buf.length < total) return;
    s[0] = buf.substr(total);
    var p = decodeBody(buf.charCodeAt(0), buf.substr(i, len));
    if (typeof p === 'string') onPacket(p);
    else onPacket(null, p);
  }
}
