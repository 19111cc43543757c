// Azure IoT Hub SAS tokens made on the device (docs/modem-facts.md §D.2), byte for byte as
// azure-iot-common's SharedAccessSignature.create(encodeUriComponentStrict(uri), keyName, key,
// expiry).toString(): fields sr, sig, skn, se in that order; URI, signature and key name URL-encoded
// "strictly" (encodeURIComponent, then ! ' ( ) * as %21 %27 %28 %29 %2a, lower-case as the SDK has it).
// Espruino has SHA256 but no HMAC, so HMAC-SHA256 (RFC 2104) is built on it here.
// Binary strings (one char per byte) throughout: SHA256 hashes a string's bytes, and E.toString
// turns its ArrayBuffer result back into a string without copying (it returns the backing string).

import { sha256 as sha } from '../platform';

/** the key (≤ 64 bytes) zero-padded to 64 bytes, each byte XOR x */
function pad(k: string, x: number): string {
  var r = '';
  for (var i = 0; i < 64; i++) r += String.fromCharCode((k.charCodeAt(i) | 0) ^ x); // NaN|0 past the end
  return r;
}

/** HMAC-SHA256 of binary strings; a 32-byte binary string. */
export function hmacSha256(key: string, msg: string): string {
  if (key.length > 64) key = sha(key);
  return sha(pad(key, 0x5c) + sha(pad(key, 0x36) + msg));
}

function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, function (c) {
    return '%' + c.charCodeAt(0).toString(16);
  });
}

/**
 * `SharedAccessSignature sr=…&sig=…[&skn=…]&se=…` for resourceUri (not encoded, e.g.
 * 'myhub.azure-devices.net/devices/dev1'), a base64 key, expiry in seconds since 1970 (an integer),
 * and the policy name for hub-level policy keys only (none for device keys).
 */
export function azureSas(resourceUri: string, keyBase64: string, expiry: number, policyName?: string): string {
  var sr = enc(resourceUri);
  return (
    'SharedAccessSignature sr=' +
    sr +
    '&sig=' +
    enc(btoa(hmacSha256(atob(keyBase64), sr + '\n' + expiry))) +
    (policyName ? '&skn=' + enc(policyName) : '') +
    '&se=' +
    expiry
  );
}
