// One CIP link's real connection: TCP (or TLS done by the "modem", AT+CIPSSL=1) to the
// host/port the simulator's `dns` gives for the CIPSTART host name (loopback in tests).
// Real I/O runs under clock.hold() (holdFor from ../common/hold.mjs), so virtual time stands
// still while the peer answers: while connecting / handshaking, and for a short real-time
// reply window after each send (released early by the first bytes back or a close).
//
// SSL as SIM800L R14.18 really does it (modem-facts.md §B.3): TLS 1.0 only (SIM800-SSL-AN V1.00
// §1: "SIM800H and SIM800L support SSL2.0, SSL3.0, TLS1.0"; field reports: V1.05's TLS 1.2 claim
// does not hold on R14.18), and no SNI (none documented). Node: tls.connect over an already
// open socket without `host`/`servername` sends no SNI; OpenSSL 3 refuses TLS 1.0 signature
// algorithms at its default security level, so the client needs ciphers 'DEFAULT@SECLEVEL=0'
// (checked: without it the handshake fails with ERR_SSL_LEGACY_SIGALG_DISALLOWED...).
// The server certificate is not checked [inferred: AT+SSLOPT=0,1 "ignore invalid certificate"
// is what TinyGSM sets; verification is not simulated].

import net from 'node:net';
import tls from 'node:tls';
import { holdFor } from '../common/hold.mjs';

export const SIM800_TLS = { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' };

/**
 * o: { clock, address: {host, port}, ssl, realWaitMs, replyWaitMs,
 *      onOpen(ok, why), onData(binaryString), onClose() }
 * onOpen fires once; onClose only after a successful open, when the peer (or an error) ends it.
 */
export function openSocket(o) {
  const { clock, realWaitMs = 5000, replyWaitMs = 150 } = o;
  let sock = null;
  let state = 'connecting'; // connecting | up | closed
  let opened = false;
  let replyHold = null;
  const info = { tls: null, servername: undefined };

  const finishOpen = holdFor(clock, realWaitMs, () => open(false, 'timeout'));
  function open(ok, why) {
    if (opened) return;
    opened = true;
    finishOpen();
    if (!ok) {
      state = 'closed';
      if (sock) sock.destroy();
    } else state = 'up';
    o.onOpen(ok, why);
  }
  const endReply = () => {
    if (replyHold) replyHold();
    replyHold = null;
  };

  function wire(s) {
    s.on('data', (d) => {
      if (state !== 'up') return;
      o.onData(Buffer.from(d).toString('latin1'));
      endReply();
    });
    s.on('close', () => {
      endReply();
      if (!opened) return open(false, 'closed');
      if (state === 'up') {
        state = 'closed';
        o.onClose();
      }
    });
    s.on('error', () => {}); // 'close' follows
  }

  const raw = net.connect({ host: o.address.host, port: o.address.port });
  raw.on('error', (e) => {
    if (!opened) open(false, e.code || 'error');
  });
  if (!o.ssl) {
    sock = raw;
    raw.once('connect', () => open(true));
    wire(raw);
  } else {
    raw.once('connect', () => {
      // no host, no servername: no SNI extension in the ClientHello
      sock = tls.connect({ socket: raw, ...SIM800_TLS, rejectUnauthorized: false, checkServerIdentity: () => undefined });
      sock.once('secureConnect', () => {
        info.tls = sock.getProtocol();
        open(true);
      });
      sock.on('error', (e) => {
        if (!opened) open(false, e.code || 'tls error');
      });
      wire(sock);
    });
  }

  return {
    info,
    get up() {
      return state === 'up';
    },
    /** writes bytes; cb(err) once written; then holds the clock for a short reply window */
    write(data, cb) {
      if (state !== 'up') return cb(new Error('not connected'));
      const fin = holdFor(clock, realWaitMs);
      sock.write(Buffer.from(data, 'latin1'), (err) => {
        fin();
        if (!err && state === 'up' && replyWaitMs > 0) {
          endReply();
          replyHold = holdFor(clock, replyWaitMs);
        }
        cb(err || null);
      });
    },
    /** closes from our side; cb() when the socket is gone (or at once if it already is) */
    close(cb = () => {}) {
      endReply();
      if (state === 'connecting') {
        open(false, 'closed by host');
        return cb();
      }
      if (state !== 'up') return cb();
      state = 'closed';
      const fin = holdFor(clock, realWaitMs);
      sock.once('close', () => {
        fin();
        cb();
      });
      sock.end();
      setTimeout(() => sock.destroy(), 50).unref();
    },
    destroy() {
      endReply();
      if (!opened) {
        opened = true;
        finishOpen();
      }
      state = 'closed';
      if (sock) sock.destroy();
      raw.destroy();
    },
  };
}
