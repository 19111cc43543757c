// A resumable TLS session as one binary string (what TlsConfig.save keeps in Storage): the host it
// belongs to, the server's session id, its RFC 5077 ticket, the master secret and whether it was made
// with the extended master secret (RFC 7627). It holds the master secret: never log it.

import { u16, num } from './record';

export interface Session {
  host: string;
  id: string;
  ticket: string;
  master: string;
  ems: boolean;
}

function field(s: string): string {
  return u16(s.length) + s;
}

export function encodeSession(s: Session): string {
  return 'S' + (s.ems ? '1' : '0') + field(s.host) + field(s.id) + field(s.ticket) + field(s.master);
}

/** The session in t, or null when t is empty or not one encodeSession made. */
export function decodeSession(t: string | undefined): Session | null {
  if (!t || t.charAt(0) !== 'S') return null;
  var f: string[] = [];
  var i = 2;
  while (f.length < 4 && i + 2 <= t.length) {
    var n = num(t, i, 2);
    f.push(t.substr(i + 2, n));
    i += 2 + n;
  }
  if (f.length < 4 || i !== t.length || f[3].length !== 48) return null;
  return { host: f[0], id: f[1], ticket: f[2], master: f[3], ems: t.charAt(1) === '1' };
}
