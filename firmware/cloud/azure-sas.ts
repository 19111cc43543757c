// Azure IoT Hub SAS tokens made on the device (docs/modem-facts.md §D.2), byte for byte as
// azure-iot-common's SharedAccessSignature.create(encodeUriComponentStrict(uri), keyName, key,
// expiry).toString(): fields sr, sig, skn, se in that order; URI, signature and key name URL-encoded
// "strictly" (encodeURIComponent, then ! ' ( ) * as %21 %27 %28 %29 %2a, lower-case as the SDK has it).
// HMAC-SHA256 (RFC 2104) on Espruino's SHA256 is firmware/tls/hmac.ts.
// Binary strings (one char per byte) throughout: SHA256 hashes a string's bytes, and E.toString
// turns its ArrayBuffer result back into a string without copying (it returns the backing string).

import { hmacSha256 as mac } from '../tls/hmac';

/** HMAC-SHA256 (firmware/tls/hmac.ts), still exported here for test/azure-sas.test.mjs */
export var hmacSha256 = mac;

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
    enc(btoa(mac(atob(keyBase64), sr + '\n' + expiry))) +
    (policyName ? '&skn=' + enc(policyName) : '') +
    '&se=' +
    expiry
  );
}
