// A TLS 1.2 client (RFC 5246) as a Socket that wraps a plain Socket (the SIM800's CIP socket):
// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (RFC 8422, RFC 5288) with X25519, SNI (RFC 6066), the
// extended master secret (RFC 7627) and session resumption by session id and by ticket (RFC 5077).
// The crypto comes in a kit object (TlsKit), so the firmware passes its own TypeScript primitives and
// the tests pass Node's.
//
// X25519 key pair: one per boot, not per connect. prepare(kit) makes it (the firmware calls it right
// after boot, while the modem attaches); otherwise open() starts it, and it runs beside the
// connection set-up and the certificate check. So each full handshake runs one X25519 (the shared
// secret) instead of two. The price: forward secrecy spans a boot, not a connection (whoever takes
// the private key from RAM can read every connection of this boot that was recorded).
//
// Resumption: after a full handshake the session (session id, ticket, master secret, EMS) is kept in
// this socket and handed to cfg.save as one string; open() offers it again (cfg.load after a
// reboot). When the server echoes our session id the handshake is abbreviated: no certificate, no
// signature, no X25519, so a reconnect within the server's session lifetime does no public-key
// operation. Any protocol failure or alert forgets the session; a dropped connection does not
// (RFC 5246 §7.2.1 no longer asks for that, and a modem drop is what resumption is for).
//
// Inbound bytes may come in any chunking. pump() takes whole records, then whole handshake messages;
// while a slow step (verifyChain, rsaVerify, x25519) runs, c.busy holds the input back, and the step's
// callback resumes pump(). RAM: the handshake state (c.h, with the transcript) is dropped once the
// server's Finished is verified; what stays is the record layer (two Dir) and the kept session.

import type { Socket } from '../mqtt-client/socket';
import type { RsaKey } from './rsa';
import { X25519_BASE } from './x25519';
import { Dir, Gcm, num, plainRecord, seal, unseal } from './record';
import { clientHello, message, readServerHello, readCertificates, readKeyExchange, readTicket } from './handshake';
import { alertName, alertReason } from './alert';
import { Session, encodeSession, decodeSession } from './session';

/** An RSA public key: n big-endian bytes, e, m precomputed constants (rsa.ts). */
export type TlsKey = RsaKey;

export interface TlsConfig {
  /** the server's name: sent as SNI and checked against its certificate */
  host: string;
  /** seconds since 1970, or 0 when the time is not known yet */
  now(): number;
  /** when the time is unknown: true = connect without checking certificate dates, false = refuse */
  anyTime: boolean;
  log(line: string): void;
  /** the session cfg.save kept (e.g. in Storage), for the first connect after a reboot */
  load?(): string | undefined;
  /** keep the resumable session ('' = forget it); the string holds the master secret */
  save?(s: string): void;
}

export interface TlsKit {
  random(n: number): string;
  /** name: 'SHA256' | 'SHA384' | 'SHA512' */
  hash(name: string, s: string): string;
  /** the TLS 1.2 PRF (P_SHA256) */
  prf(secret: string, label: string, seed: string, len: number): string;
  /** AES-128-GCM under key */
  gcm(key: string): Gcm;
  x25519(k: string, u: string, done: (out: string) => void): void;
  /** RSASSA-PKCS1-v1_5 over digest (the hash of the message) */
  rsaVerify(key: TlsKey, hash: string, digest: string, sig: string, done: (ok: boolean) => void): void;
  /** chain: DER certificates, leaf first; now: 0 = do not check dates; anchors bound by the caller */
  verifyChain(chain: string[], host: string, now: number, done: (err: string | null, leaf?: { key: TlsKey | null }) => void): void;
}

/** What the handshake waits for next. */
var SH = 1,
  CERT = 2,
  SKE = 3,
  DONE = 4, // CertificateRequest or ServerHelloDone
  CCS = 5, // NewSessionTicket or ChangeCipherSpec
  FIN = 6;

interface Hs {
  want: number;
  /** every handshake message so far, as sent (hashed for EMS and Finished) */
  tr: string;
  /** handshake bytes received but not yet a whole message */
  hsb: string;
  cr: string;
  sr: string;
  /** the session offered (null: none, or the server did not take it) and its id */
  ses: Session | null;
  sid: string;
  /** the server's session id */
  ssid: string;
  /** resumed (abbreviated handshake) */
  res: boolean;
  ems: boolean;
  /** a NewSessionTicket arrived; its ticket */
  got: boolean;
  ticket: string;
  /** a CertificateRequest arrived (we answer with no certificate) */
  creq: boolean;
  key: TlsKey | null;
  /** the server's X25519 public key */
  sp: string;
  ms: string;
  kb: string;
}

interface Conn {
  p: Socket;
  s: Socket;
  cfg: TlsConfig;
  kit: TlsKit;
  host: string;
  inb: string;
  rd: Dir | null;
  wr: Dir | null;
  h: Hs | null;
  up: boolean;
  dead: boolean;
  busy: boolean;
  pumping: boolean;
  cb: ((err: string | null) => void) | null;
  /** the resumable session (encodeSession), '' when none */
  kept: string;
  /** getTime() when open() began: a server that closes mid-handshake may have timed out */
  t0: number;
}

var kPriv = '';
var kPub = '';
var kWait: Array<() => void> | null = null;

/** Makes this boot's X25519 key pair (once; later calls just call done). */
export function prepare(kit: TlsKit, done?: () => void): void {
  if (kPub) {
    if (done) done();
    return;
  }
  if (kWait) {
    if (done) kWait.push(done);
    return;
  }
  kWait = done ? [done] : [];
  var k = kit.random(32);
  kit.x25519(k, X25519_BASE, function (pub) {
    kPriv = k;
    kPub = pub;
    var w = kWait as Array<() => void>;
    kWait = null;
    for (var i = 0; i < w.length; i++) w[i]();
  });
}

function dir(c: Conn, key: string, iv: string): Dir {
  return { g: c.kit.gcm(key), iv: iv, seq: 0 };
}

function rec(c: Conn, type: number, data: string): string {
  return c.wr ? seal(c.wr, type, data) : plainRecord(type, data);
}

function report(c: Conn, why: string) {
  c.cfg.log('tls ' + c.host + ': ' + why);
}

function forget(c: Conn) {
  c.kept = '';
  if (c.cfg.save) c.cfg.save('');
}

/**
 * Ends the connection: our alert a (level + description; '' for none) first, then the plain close
 * (unless the plain socket closed itself: shut false); tells the open callback, or onClose.
 */
function end(c: Conn, why: string, a: string, keep: boolean, shut?: boolean) {
  if (c.dead) return;
  c.dead = true;
  c.busy = false;
  c.h = null;
  c.inb = '';
  if (!keep) forget(c);
  report(c, why);
  var cb = c.cb;
  var up = c.up;
  c.cb = null;
  c.up = false;
  if (shut !== false) {
    if (a)
      c.p.send(rec(c, 21, a), function () {
        c.p.close(nop);
      });
    else c.p.close(nop);
  }
  if (cb) cb(why);
  else if (up) c.s.onClose(why);
}

function nop() {}

/** Refuses the server: our fatal alert al, the session forgotten. */
function fail(c: Conn, al: number, why: string) {
  end(c, why, '\x02' + String.fromCharCode(al), false);
}

function start(c: Conn) {
  if (!c.kept && c.cfg.load) c.kept = c.cfg.load() || '';
  var ses = decodeSession(c.kept);
  if (ses && ses.host !== c.host) ses = null;
  var sid = ses ? ses.id || c.kit.random(32) : '';
  var cr = c.kit.random(32);
  var ch = clientHello(cr, c.host, sid, ses ? ses.ticket : '');
  c.h = {
    want: SH,
    tr: ch,
    hsb: '',
    cr: cr,
    sr: '',
    ses: ses,
    sid: sid,
    ssid: '',
    res: false,
    ems: false,
    got: false,
    ticket: '',
    creq: false,
    key: null,
    sp: '',
    ms: '',
    kb: '',
  };
  c.p.send(plainRecord(22, ch), function (err) {
    if (err) end(c, 'the ClientHello could not be sent: ' + err, '', true);
  });
}

function pump(c: Conn) {
  if (c.pumping) return;
  c.pumping = true;
  while (!c.busy && !c.dead && step(c)) {}
  c.pumping = false;
}

/** Handles one whole handshake message or one whole record; false when none is there yet. */
function step(c: Conn): boolean {
  var h = c.h;
  if (h && h.hsb.length >= 4) {
    var n = num(h.hsb, 1, 3);
    if (n > 16384) {
      fail(c, 50, 'the server sent a handshake message of ' + n + ' bytes, more than cellpub accepts');
      return false;
    }
    if (h.hsb.length >= 4 + n) {
      var m = h.hsb.substr(0, 4 + n);
      h.hsb = h.hsb.substr(4 + n);
      handshake(c, h, m.charCodeAt(0), m);
      return true;
    }
  }
  var b = c.inb;
  if (b.length < 5) return false;
  var len = num(b, 3, 2);
  if (len > 16384 + 2048) {
    fail(c, 22, 'the server sent a record longer than TLS allows');
    return false;
  }
  if (b.length < 5 + len) return false;
  var type = b.charCodeAt(0);
  var frag: string | null = b.substr(5, len);
  c.inb = b.substr(5 + len);
  if (c.rd) {
    frag = unseal(c.rd, type, frag);
    if (frag === null) {
      fail(c, 20, 'a record from the server failed its integrity check (bad_record_mac)');
      return false;
    }
  }
  if (type === 22) {
    // after the handshake (a HelloRequest: no renegotiation here) it is ignored
    if (h) h.hsb += frag;
  } else if (type === 23) {
    if (!c.up) fail(c, 10, 'the server sent application data before the handshake ended');
    else if (frag) c.s.onData(frag);
  } else if (type === 21) alert(c, frag);
  else if (type === 20) {
    if (!h || h.want !== CCS || h.hsb || frag !== '\x01') fail(c, 10, 'the server sent ChangeCipherSpec out of order');
    else {
      c.rd = dir(c, h.kb.substr(16, 16), h.kb.substr(36, 4));
      h.want = FIN;
    }
  } else fail(c, 10, 'the server sent a record of unknown type ' + type);
  return true;
}

function alert(c: Conn, a: string) {
  if (a.length !== 2) return fail(c, 50, 'the server sent a malformed alert');
  var d = a.charCodeAt(1);
  // close_notify: answered with ours; the session stays resumable
  if (d === 0)
    return end(
      c,
      c.h ? 'the server closed the connection during the TLS handshake (close_notify)' : 'the server closed the TLS session (close_notify)',
      '\x01\x00',
      true,
    );
  if (a.charCodeAt(0) === 1) return report(c, 'the server sent the warning alert ' + alertName(d) + ' (ignored)');
  end(c, alertReason(d, c.host), '', false);
}

function handshake(c: Conn, h: Hs, t: number, m: string) {
  if (t === 0) return; // HelloRequest: not in the transcript, no renegotiation
  var b = m.substr(4);
  var w = h.want;
  if (t === 2 && w === SH) serverHello(c, h, b, m);
  else if (t === 11 && w === CERT) certificate(c, h, b, m);
  else if (t === 12 && w === SKE) keyExchange(c, h, b, m);
  else if (t === 13 && w === DONE) {
    h.tr += m;
    h.creq = true;
  } else if (t === 14 && w === DONE) helloDone(c, h, b, m);
  else if (t === 4 && w === CCS) {
    var tk = readTicket(b);
    if (tk === null) return fail(c, 50, 'the NewSessionTicket is malformed');
    h.tr += m;
    h.got = true;
    h.ticket = tk;
  } else if (t === 20 && w === FIN) finished(c, h, b, m);
  else fail(c, 10, 'the server sent handshake message ' + t + ' out of order');
}

function serverHello(c: Conn, h: Hs, b: string, m: string) {
  var r = readServerHello(b);
  if (r.err) return fail(c, r.al, r.err);
  h.tr += m;
  h.sr = r.random;
  h.ems = r.ems;
  h.ssid = r.sid;
  var s = h.ses;
  if (s && r.sid === h.sid) {
    if (s.ems !== r.ems) return fail(c, 40, 'the server resumed the session with a different extended master secret setting');
    h.res = true;
    h.ms = s.master;
    h.kb = c.kit.prf(h.ms, 'key expansion', h.sr + h.cr, 40);
    h.want = CCS;
  } else {
    h.ses = null;
    h.want = CERT;
  }
}

function certificate(c: Conn, h: Hs, b: string, m: string) {
  var chain = readCertificates(b);
  if (!chain) return fail(c, 50, "the server's Certificate message is malformed");
  if (!chain.length) return fail(c, 42, 'the server sent no certificate');
  h.tr += m;
  var now = c.cfg.now();
  if (!now && !c.cfg.anyTime)
    return fail(
      c,
      80,
      "the time is not known yet, so the certificate's dates cannot be checked (set broker.allowUnknownTime to connect without checking them)",
    );
  c.busy = true;
  c.kit.verifyChain(chain, c.host, now, function (err, leaf) {
    if (c.h !== h) return; // ended (or ended and reopened) meanwhile
    c.busy = false;
    if (err) return fail(c, 42, "the server's certificate was refused: " + err);
    if (!leaf || !leaf.key) return fail(c, 43, "the server's certificate has no RSA key (cellpub checks RSA signatures only)");
    h.key = leaf.key;
    h.want = SKE;
    pump(c);
  });
}

function keyExchange(c: Conn, h: Hs, b: string, m: string) {
  var k = readKeyExchange(b);
  if (k.err) return fail(c, k.al, k.err);
  h.tr += m;
  h.sp = k.pub;
  var d = c.kit.hash(k.hash, h.cr + h.sr + k.params);
  c.busy = true;
  c.kit.rsaVerify(h.key as TlsKey, k.hash, d, k.sig, function (ok) {
    if (c.h !== h) return; // ended (or ended and reopened) meanwhile
    c.busy = false;
    if (!ok) return fail(c, 51, "the server's key exchange signature does not verify (a forged or altered ServerKeyExchange)");
    h.key = null;
    h.want = DONE;
    pump(c);
  });
}

function helloDone(c: Conn, h: Hs, b: string, m: string) {
  if (b) return fail(c, 50, 'the ServerHelloDone is malformed');
  h.tr += m;
  c.busy = true;
  prepare(c.kit, function () {
    c.kit.x25519(kPriv, h.sp, function (z) {
      if (c.h !== h) return; // ended (or ended and reopened) meanwhile
      var o = 0;
      for (var i = 0; i < z.length; i++) o |= z.charCodeAt(i);
      if (!o || z.length !== 32) return fail(c, 47, "the server's X25519 key gives an all-zero shared secret");
      var out = '';
      if (h.creq) out += message(11, '\0\0\0');
      out += message(16, ' ' + kPub);
      h.tr += out;
      var kit = c.kit;
      h.ms = h.ems ? kit.prf(z, 'extended master secret', kit.hash('SHA256', h.tr), 48) : kit.prf(z, 'master secret', h.cr + h.sr, 48);
      // the master secret, the key block and our Finished (GCM key setup, PRF, seal) in three
      // slices, not one (bench/tls.mjs: ≈ 8-12 ms native together)
      setTimeout(function () {
        if (c.h !== h) return;
        h.kb = kit.prf(h.ms, 'key expansion', h.sr + h.cr, 40);
        setTimeout(function () {
          if (c.h !== h) return;
          c.busy = false;
          h.want = CCS;
          ours(c, h, plainRecord(22, out));
          pump(c);
        }, 0);
      }, 0);
    });
  });
}

/** Sends pre, our ChangeCipherSpec and our Finished. */
function ours(c: Conn, h: Hs, pre: string) {
  var out = pre + plainRecord(20, '\x01');
  c.wr = dir(c, h.kb.substr(0, 16), h.kb.substr(32, 4));
  var f = message(20, c.kit.prf(h.ms, 'client finished', c.kit.hash('SHA256', h.tr), 12));
  h.tr += f;
  c.p.send(out + seal(c.wr, 22, f), function (err) {
    if (err) end(c, 'the handshake could not be sent: ' + err, '', true);
  });
}

function finished(c: Conn, h: Hs, b: string, m: string) {
  if (b !== c.kit.prf(h.ms, 'server finished', c.kit.hash('SHA256', h.tr), 12))
    return fail(c, 51, "the server's Finished does not verify (different keys or an altered handshake)");
  h.tr += m;
  if (h.res) ours(c, h, '');
  var old = h.ses;
  var tk = h.got ? h.ticket : old ? old.ticket : '';
  if (h.ssid || tk) {
    c.kept = encodeSession({ host: c.host, id: h.ssid, ticket: tk, master: h.ms, ems: h.ems });
    if (c.cfg.save) c.cfg.save(c.kept);
  } else forget(c);
  var cb = c.cb;
  report(c, h.res ? 'TLS 1.2 session resumed' : 'TLS 1.2 handshake done (' + (h.ems ? 'extended master secret' : 'no extended master secret') + ')');
  c.h = null;
  c.cb = null;
  c.up = true;
  if (cb) cb(null);
}

/** A TLS 1.2 Socket over plain: open() connects and shakes hands; send()/onData carry application data. */
export function createTlsSocket(plain: Socket, cfg: TlsConfig, kit: TlsKit): Socket {
  var s: Socket = {
    open: function (host, port, _tls, cb) {
      if (c.h || c.up) return cb('the TLS socket is already open');
      c.host = cfg.host || host;
      c.dead = false;
      c.busy = false;
      c.inb = '';
      c.rd = c.wr = null;
      c.cb = cb;
      c.t0 = getTime();
      prepare(kit);
      plain.open(host, port, false, function (err) {
        if (c.cb !== cb) return;
        if (err) {
          c.cb = null;
          c.dead = true;
          report(c, 'the connection failed: ' + err);
          return cb(err);
        }
        start(c);
      });
    },
    send: function (data, cb) {
      if (!c.up || c.dead) return cb('the TLS session is not open');
      var out = '';
      for (var i = 0; i < data.length; i += 16384) out += seal(c.wr as Dir, 23, data.substr(i, 16384));
      if (out) plain.send(out, cb);
      else cb(null);
    },
    close: function (cb) {
      if (c.dead && !c.cb) return cb();
      var pcb = c.cb;
      var out = c.up ? rec(c, 21, '\x01\x00') : '';
      c.dead = true;
      c.up = false;
      c.h = null;
      c.cb = null;
      if (out)
        plain.send(out, function () {
          plain.close(cb);
        });
      else plain.close(cb);
      if (pcb) pcb('the TLS socket was closed during the handshake');
    },
    onData: function () {},
    onClose: function () {},
  };
  var c: Conn = {
    p: plain,
    s: s,
    cfg: cfg,
    kit: kit,
    host: cfg.host,
    inb: '',
    rd: null,
    wr: null,
    h: null,
    up: false,
    dead: true,
    busy: false,
    pumping: false,
    cb: null,
    kept: '',
    t0: 0,
  };
  plain.onData = function (d) {
    if (c.dead) return;
    c.inb += d;
    pump(c);
  };
  plain.onClose = function (why) {
    if (c.dead) return;
    end(
      c,
      c.cb
        ? 'the connection closed during the TLS handshake, ' +
            Math.round(getTime() - c.t0) +
            ' s after it began (' +
            why +
            '; if this happens every time, the server allows less time for a handshake than this board needs)'
        : why,
      '',
      true,
      false,
    );
  };
  return s;
}
