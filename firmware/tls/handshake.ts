// TLS 1.2 handshake messages cellpub writes or reads (RFC 5246 §7.4, RFC 8422, RFC 6066, RFC 7627,
// RFC 5077): the ClientHello, and readers for ServerHello, Certificate, ServerKeyExchange and
// NewSessionTicket. Messages are binary strings with their 4-byte header (type, 24-bit length).

import { u16, u24, num } from './record';
import { isIp } from './x509';

/** A handshake message: type, 24-bit length, body. */
export function message(type: number, body: string): string {
  return String.fromCharCode(type) + u24(body.length) + body;
}

function ext(type: number, data: string): string {
  return u16(type) + u16(data.length) + data;
}

/**
 * The ClientHello: TLS 1.2, one suite (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) and the renegotiation
 * SCSV, no compression, SNI, X25519 only, uncompressed points, RSA PKCS#1 v1.5 signatures with
 * SHA-256/384/512, extended master secret, and session_ticket (empty or the ticket to resume).
 */
export function clientHello(random: string, host: string, sid: string, ticket: string): string {
  // an IPv4 literal gets no server_name (RFC 6066 §3)
  var e = isIp(host) ? '' : ext(0, u16(host.length + 3) + '\0' + u16(host.length) + host);
  e += ext(10, '\x00\x02\x00\x1d') + ext(11, '\x01\x00') + ext(13, '\x00\x06\x04\x01\x05\x01\x06\x01');
  e += ext(23, '') + ext(35, ticket);
  return message(1, '\x03\x03' + random + String.fromCharCode(sid.length) + sid + '\x00\x04\xc0\x2f\x00\xff\x01\x00' + u16(e.length) + e);
}

export interface ServerHello {
  /** '' when it is acceptable, else the reason; al: the alert to send then */
  err: string;
  al: number;
  random: string;
  sid: string;
  /** extended master secret acknowledged */
  ems: boolean;
  /** session_ticket acknowledged: a NewSessionTicket follows */
  ticket: boolean;
}

/** Reads a ServerHello body and checks it against what clientHello offered. */
export function readServerHello(b: string): ServerHello {
  var r: ServerHello = { err: '', al: 0, random: b.substr(2, 32), sid: '', ems: false, ticket: false };
  function bad(al: number, why: string): ServerHello {
    r.err = why;
    r.al = al;
    return r;
  }
  if (b.length < 38) return bad(50, 'the ServerHello is too short');
  var v = num(b, 0, 2);
  if (v !== 0x0303) return bad(70, 'the server answered with TLS version ' + (v >> 8) + '.' + (v & 255) + ', not TLS 1.2 (3.3)');
  var n = b.charCodeAt(34);
  if (n > 32 || b.length < 38 + n) return bad(50, 'the ServerHello is malformed');
  r.sid = b.substr(35, n);
  var i = 35 + n;
  var suite = num(b, i, 2);
  if (suite !== 0xc02f) return bad(47, 'the server chose cipher suite 0x' + suite.toString(16) + ', which cellpub did not offer');
  if (b.charCodeAt(i + 2) !== 0) return bad(47, 'the server chose TLS compression, which cellpub did not offer');
  i += 3;
  if (i === b.length) return r;
  var end = i + 2 + num(b, i, 2);
  if (end !== b.length) return bad(50, 'the ServerHello extensions are malformed');
  for (i += 2; i < end;) {
    if (i + 4 > end) return bad(50, 'the ServerHello extensions are malformed');
    var t = num(b, i, 2);
    var l = num(b, i + 2, 2);
    var d = b.substr(i + 4, l);
    i += 4 + l;
    if (i > end) return bad(50, 'the ServerHello extensions are malformed');
    if (t === 23) r.ems = true;
    else if (t === 35) r.ticket = true;
    else if (t === 0xff01) {
      if (d !== '\0') return bad(40, 'the server sent renegotiation_info data on a first handshake');
    } else if (t !== 0 && t !== 11) return bad(110, 'the server answered with extension ' + t + ', which cellpub did not offer');
  }
  return r;
}

/** The DER certificates of a Certificate body (leaf first), or null when it is malformed. */
export function readCertificates(b: string): string[] | null {
  if (b.length < 3 || num(b, 0, 3) !== b.length - 3) return null;
  var out: string[] = [];
  for (var i = 3; i < b.length;) {
    if (i + 3 > b.length) return null;
    var n = num(b, i, 3);
    if (i + 3 + n > b.length) return null;
    out.push(b.substr(i + 3, n));
    i += 3 + n;
  }
  return out;
}

export interface KeyExchange {
  err: string;
  al: number;
  /** the ECDHE parameters as signed (curve type, curve, point) */
  params: string;
  /** the server's X25519 public key */
  pub: string;
  /** 'SHA256' | 'SHA384' | 'SHA512' */
  hash: string;
  sig: string;
}

/** Reads an ECDHE ServerKeyExchange body: X25519 and an RSA PKCS#1 v1.5 signature only. */
export function readKeyExchange(b: string): KeyExchange {
  var r: KeyExchange = { err: '', al: 0, params: '', pub: '', hash: '', sig: '' };
  function bad(al: number, why: string): KeyExchange {
    r.err = why;
    r.al = al;
    return r;
  }
  if (b.length < 8) return bad(50, 'the ServerKeyExchange is too short');
  if (b.charCodeAt(0) !== 3 || num(b, 1, 2) !== 0x1d) return bad(47, 'the server chose a key exchange group other than X25519, which cellpub did not offer');
  var n = b.charCodeAt(3);
  if (n !== 32 || b.length < 4 + n + 4) return bad(50, 'the ServerKeyExchange is malformed (X25519 keys are 32 bytes)');
  r.params = b.substr(0, 4 + n);
  r.pub = b.substr(4, n);
  var i = 4 + n;
  var h = b.charCodeAt(i);
  if (b.charCodeAt(i + 1) !== 1 || h < 4 || h > 6)
    return bad(47, 'the server signed its key exchange with algorithm 0x' + num(b, i, 2).toString(16) + ', which cellpub did not offer');
  r.hash = 'SHA' + (h === 4 ? 256 : h === 5 ? 384 : 512);
  var l = num(b, i + 2, 2);
  if (i + 4 + l !== b.length) return bad(50, 'the ServerKeyExchange is malformed');
  r.sig = b.substr(i + 4);
  return r;
}

/** The ticket of a NewSessionTicket body (may be ''), or null when it is malformed. */
export function readTicket(b: string): string | null {
  if (b.length < 6 || num(b, 4, 2) !== b.length - 6) return null;
  return b.substr(6);
}
