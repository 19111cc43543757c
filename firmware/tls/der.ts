// A minimal DER reader (X.690), only what X.509 certificates need: definite lengths of 1 to 3
// length bytes (certificates are far below 16 MB), single-byte tags. Bytes are a binary string;
// nothing is copied while walking: a Tlv holds offsets into it.

/** One element: tag, its first byte, the first byte of its content, the byte after it. */
export interface Tlv {
  t: number;
  p: number;
  c: number;
  e: number;
}

/** Throws the one kind of error a malformed certificate gives. */
export function bad(what: string): never {
  throw new Error('certificate: ' + what);
}

/** The element at s[p], which must end by `end`. */
export function tlv(s: string, p: number, end: number): Tlv {
  if (p + 2 > end) bad('truncated');
  var t = s.charCodeAt(p);
  if ((t & 0x1f) == 0x1f) bad('multi-byte tag');
  var l = s.charCodeAt(p + 1);
  var c = p + 2;
  if (l & 0x80) {
    var n = l & 0x7f;
    if (!n) bad('indefinite length');
    if (n > 3) bad('length of ' + n + ' bytes');
    if (c + n > end) bad('truncated');
    l = 0;
    while (n--) l = l * 256 + s.charCodeAt(c++);
  }
  if (c + l > end) bad('truncated');
  return { t: t, p: p, c: c, e: c + l };
}

/** The element at s[p] (ending by `end`), which must have tag t; else the error names `what`. */
export function want(s: string, p: number, end: number, t: number, what: string): Tlv {
  if (p >= end) bad(what);
  var x = tlv(s, p, end);
  if (x.t != t) bad(what);
  return x;
}
