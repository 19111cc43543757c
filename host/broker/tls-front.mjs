// The TLS front door shared by the test brokers (index.mjs: HiveMQ-like, azure.mjs: IoT-Hub-like).
// It reads the ClientHello itself, before Node's tls.Server sees it, so that a client that sends no
// server_name (SNI) can be refused the way HiveMQ Cloud does: a fatal TLS alert
// unrecognized_name(112), then close. Node's tls.Server gives no hook between ClientHello and
// handshake for a *missing* SNI (SNICallback only runs when a name was sent, 'secureConnection'
// comes after the handshake). Otherwise the untouched bytes go to the real tls.Server.

import net from 'node:net';

const CLIENT_HELLO_LIMIT = 64 * 1024;
const CLIENT_HELLO_TIMEOUT_MS = 10000;
const ALERT_UNRECOGNIZED_NAME = 112;

/**
 * Looks for a complete ClientHello at the start of `buf` (TLS records of type handshake).
 * → { done: false } when more bytes are needed; { done: true, tls: false } when this is not TLS;
 *   { done: true, tls: true, servername: string|null, version } otherwise.
 */
export function parseClientHello(buf) {
  if (buf.length < 1) return { done: false };
  if (buf[0] !== 0x16) return { done: true, tls: false };
  // Gather handshake bytes from consecutive records until the whole first message is there.
  let hs = Buffer.alloc(0);
  let off = 0;
  for (;;) {
    if (buf.length < off + 5) return { done: false };
    if (buf[off] !== 0x16) return { done: true, tls: false };
    const len = buf.readUInt16BE(off + 3);
    if (buf.length < off + 5 + len) return { done: false };
    hs = Buffer.concat([hs, buf.subarray(off + 5, off + 5 + len)]);
    off += 5 + len;
    if (hs.length >= 4 && hs.length >= 4 + hs.readUIntBE(1, 3)) break;
  }
  const version = buf.readUInt16BE(1);
  if (hs[0] !== 1) return { done: true, tls: true, servername: null, version };
  const end = 4 + hs.readUIntBE(1, 3);
  let p = 4 + 2 + 32; // client_version, random
  const need = (n) => {
    if (p + n > end) throw new Error('truncated ClientHello');
  };
  try {
    need(1);
    p += 1 + hs[p]; // session_id
    need(2);
    p += 2 + hs.readUInt16BE(p); // cipher_suites
    need(1);
    p += 1 + hs[p]; // compression_methods
    if (p + 2 > end) return { done: true, tls: true, servername: null, version }; // no extensions
    const extEnd = Math.min(end, p + 2 + hs.readUInt16BE(p));
    p += 2;
    while (p + 4 <= extEnd) {
      const type = hs.readUInt16BE(p);
      const len = hs.readUInt16BE(p + 2);
      p += 4;
      if (type === 0) {
        // server_name: ServerNameList { NameType name_type; opaque HostName<1..2^16-1> }
        let q = p + 2;
        const listEnd = Math.min(p + len, q + hs.readUInt16BE(p));
        while (q + 3 <= listEnd) {
          const nameType = hs[q];
          const nameLen = hs.readUInt16BE(q + 1);
          if (nameType === 0 && q + 3 + nameLen <= listEnd) {
            return { done: true, tls: true, servername: hs.toString('latin1', q + 3, q + 3 + nameLen), version };
          }
          q += 3 + nameLen;
        }
      }
      p += len;
    }
  } catch {
    // malformed: treat as "no SNI"; the TLS stack would reject it anyway
  }
  return { done: true, tls: true, servername: null, version };
}

/**
 * createSniFront({ tlsServer, requireSni, track, onNoSni }) → { front, sniOf(rawSocket) }
 *   front: a net.Server to listen on; every connection is handed to tlsServer ('connection')
 *   unless requireSni and the ClientHello carries no server_name: then onNoSni() is called, the
 *   alert is sent and the socket closed. sniOf(raw) gives the name the ClientHello carried (for
 *   'tlsClientError', where the TLS socket's servername is unset).
 */
export function createSniFront({ tlsServer, requireSni = true, track = () => {}, onNoSni = () => {} }) {
  const peeked = new WeakMap(); // raw TCP socket → server_name from its ClientHello
  const front = net.createServer((raw) => {
    track(raw);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => raw.destroy(), CLIENT_HELLO_TIMEOUT_MS);
    const onData = (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let hello;
      if (buf.length > CLIENT_HELLO_LIMIT) hello = { done: true, tls: true, servername: null, version: 0x0301 };
      else hello = parseClientHello(buf);
      if (!hello.done) return;
      clearTimeout(timer);
      raw.removeListener('data', onData);
      if (hello.tls && !hello.servername && requireSni) {
        onNoSni(hello);
        const v = hello.version >= 0x0301 && hello.version <= 0x0303 ? hello.version : 0x0301;
        raw.end(Buffer.from([0x15, v >> 8, v & 0xff, 0x00, 0x02, 0x02, ALERT_UNRECOGNIZED_NAME]));
        setTimeout(() => raw.destroy(), 200).unref();
        return;
      }
      // Hand the untouched byte stream to the real TLS server.
      if (hello.servername) peeked.set(raw, hello.servername);
      raw.pause();
      raw.unshift(buf);
      tlsServer.emit('connection', raw);
    };
    raw.on('data', onData);
    raw.on('close', () => clearTimeout(timer));
  });

  return { front, sniOf: (raw) => (raw ? peeked.get(raw) : undefined) };
}
