// TLS alerts (RFC 5246 §7.2, RFC 6066, RFC 8446 §6 for the names a TLS 1.3 server may send) and the
// sentences cellpub logs when the server sends a fatal one. The names live in one string (a few
// JsVars) and are looked up only when an alert arrives.

var NAMES =
  ',0 close_notify,10 unexpected_message,20 bad_record_mac,22 record_overflow,40 handshake_failure,42 bad_certificate,' +
  '43 unsupported_certificate,44 certificate_revoked,45 certificate_expired,46 certificate_unknown,47 illegal_parameter,' +
  '48 unknown_ca,49 access_denied,50 decode_error,51 decrypt_error,70 protocol_version,71 insufficient_security,' +
  '80 internal_error,86 inappropriate_fallback,90 user_canceled,100 no_renegotiation,109 missing_extension,' +
  '110 unsupported_extension,112 unrecognized_name,116 certificate_required,120 no_application_protocol,';

/** The alert's name (RFC 5246 §7.2), or "alert <n>" for one cellpub does not know. */
export function alertName(d: number): string {
  var i = NAMES.indexOf(',' + d + ' ');
  if (i < 0) return 'alert ' + d;
  i = NAMES.indexOf(' ', i) + 1;
  return NAMES.substring(i, NAMES.indexOf(',', i));
}

/** The sentence for a fatal alert the server sent. */
export function alertReason(d: number, host: string): string {
  if (d === 40) return 'the server and cellpub share no cipher suite (cellpub offers ECDHE-RSA-AES128-GCM-SHA256 with X25519)';
  if (d === 70) return 'the server does not speak TLS 1.2 (TLS 1.3 only?)';
  if (d === 112) return 'the server does not know the name ' + host + ' (SNI)';
  if (d === 71) return 'the server wants stronger security than cellpub offers (insufficient_security)';
  if (d === 116) return 'the server requires a client certificate, which cellpub does not have';
  return 'the server ended the TLS session with the fatal alert ' + alertName(d);
}
