// TLS 1.2 records (RFC 5246 §6.2) protected with AES-128-GCM (RFC 5288). Bytes are binary strings.
// One Dir per direction: its GCM, its 4-byte implicit IV (the "salt") and its sequence number, which
// starts at 0 at each ChangeCipherSpec. The 8-byte explicit nonce we send is our sequence number.

import type { Gcm } from './gcm';
export type { Gcm };

/** One direction's record protection. */
export interface Dir {
  g: Gcm;
  iv: string;
  seq: number;
}

export function u16(n: number): string {
  return String.fromCharCode((n >> 8) & 255, n & 255);
}

export function u24(n: number): string {
  return String.fromCharCode((n >> 16) & 255, (n >> 8) & 255, n & 255);
}

/** The n-byte big-endian number at s[i]. */
export function num(s: string, i: number, n: number): number {
  var v = 0;
  for (var k = 0; k < n; k++) v = v * 256 + s.charCodeAt(i + k);
  return v;
}

/** The sequence number as 8 bytes (exact below 2^48, far beyond any session). */
function seq8(n: number): string {
  return '\0\0' + u16(Math.floor(n / 4294967296)) + u16(n >>> 16) + u16(n);
}

/** One record, unprotected (before ChangeCipherSpec). */
export function plainRecord(type: number, data: string): string {
  return String.fromCharCode(type) + '\x03\x03' + u16(data.length) + data;
}

/** One protected record: header, explicit nonce, cipher text, tag. data ≤ 16,384 bytes. */
export function seal(d: Dir, type: number, data: string): string {
  var n = seq8(d.seq++);
  var t = String.fromCharCode(type) + '\x03\x03';
  return t + u16(data.length + 24) + n + d.g.seal(d.iv + n, n + t + u16(data.length), data);
}

/** The plain text of a protected record's fragment, or null when it does not authenticate. */
export function unseal(d: Dir, type: number, frag: string): string | null {
  if (frag.length < 24) return null;
  var aad = seq8(d.seq++) + String.fromCharCode(type) + '\x03\x03' + u16(frag.length - 24);
  return d.g.open(d.iv + frag.substr(0, 8), aad, frag.substr(8));
}
