// HMAC-SHA256 (RFC 2104) on Espruino's native SHA256: binary strings (one char per byte) in and out.
// Espruino has SHA256 but no HMAC. The padded keys are made once per key by hmacKey(), so the TLS
// PRF (prf.ts), which calls HMAC many times with one secret, builds them once.

import { sha256 as sha } from '../platform';

/** the key (≤ 64 bytes) zero-padded to 64 bytes, each byte XOR x */
function pad(k: string, x: number): string {
  var r = '';
  for (var i = 0; i < 64; i++) r += String.fromCharCode((k.charCodeAt(i) | 0) ^ x); // NaN|0 past the end
  return r;
}

/** [inner pad, outer pad] of a key (a key longer than 64 bytes is hashed first, RFC 2104 §2) */
export function hmacKey(key: string): string[] {
  if (key.length > 64) key = sha(key);
  return [pad(key, 0x36), pad(key, 0x5c)];
}

/** HMAC-SHA256 with the pads from hmacKey(): a 32-byte binary string */
export function hmacWith(pads: string[], msg: string): string {
  return sha(pads[1] + sha(pads[0] + msg));
}

/** HMAC-SHA256 of binary strings; a 32-byte binary string. */
export function hmacSha256(key: string, msg: string): string {
  return hmacWith(hmacKey(key), msg);
}
