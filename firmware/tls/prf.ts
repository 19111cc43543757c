// The TLS 1.2 pseudo-random function (RFC 5246 §5) with P_SHA256, the PRF of every TLS 1.2 suite
// we offer: PRF(secret, label, seed) = P_SHA256(secret, label + seed), where
//   P_SHA256(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + …
//   A(0) = seed, A(i) = HMAC(secret, A(i-1)),
// cut to len bytes. Binary strings throughout. The secret is never logged.

import { hmacKey, hmacWith } from './hmac';

/** the first len bytes of PRF(secret, label, seed) as a binary string */
export function prf(secret: string, label: string, seed: string, len: number): string {
  var k = hmacKey(secret);
  var s = label + seed;
  var a = s;
  var out = '';
  while (out.length < len) {
    a = hmacWith(k, a);
    out += hmacWith(k, a + s);
  }
  return out.substr(0, len);
}
