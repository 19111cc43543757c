// Parsing one AT command line (without its CR).
// Syntax from A76-ATM §1.5.2: the line starts with "AT" or "at"; basic commands "AT<x><n>" /
// "AT&<x><n>"; extended commands "AT+<x>=?" (test), "AT+<x>?" (read), "AT+<x>=<...>" (write),
// "AT+<x>" (execute); "+" may be another character such as "#", "$" (and "*" as in *ATREADY).
// The command line buffer holds at most 3071 characters, more gives ERROR.
// Spaces outside quoted strings are dropped (V.25ter convention; the A76 manual is silent)
// [inferred]. Command names are matched case-insensitively [inferred].

export const MAX_LINE = 3071;

/** Removes spaces outside double quotes. */
export function stripSpaces(s) {
  let o = '';
  let q = false;
  for (const ch of s) {
    if (ch === '"') q = !q;
    if (!q && (ch === ' ' || ch === '\t')) continue;
    o += ch;
  }
  return o;
}

/** Splits a parameter list on commas outside quotes. Each entry: { raw, quoted, value }. */
export function splitParams(s) {
  if (s === '') return [];
  const out = [];
  let cur = '';
  let q = false;
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') {
      q = !q;
      quoted = true;
      cur += ch;
    } else if (ch === ',' && !q) {
      out.push(mk(cur, quoted));
      cur = '';
      quoted = false;
    } else cur += ch;
  }
  out.push(mk(cur, quoted));
  return out;
}

function mk(raw, quoted) {
  let value = raw;
  if (quoted && raw.length >= 2 && raw[0] === '"' && raw[raw.length - 1] === '"') value = raw.slice(1, -1);
  else if (quoted) value = null; // unbalanced quotes
  return { raw, quoted, value };
}

/** Integer parameter or null (empty / not a number). */
export function int(p) {
  if (!p || p.quoted || !/^-?\d+$/.test(p.value)) return null;
  return Number(p.value);
}

/** String parameter: quoted or not (log a shows AT+CCERTDOWN=cacert.pem,1295 accepted). */
export function str(p) {
  if (!p || p.value === null) return null;
  return p.value;
}

/**
 * Parses a full command line. Returns null when the line does not start with AT/at (ignored,
 * no answer), else { cmd } where cmd is one of:
 *   { kind: 'empty' }                              "AT"
 *   { kind: 'basic', name: 'E', arg: '0' }         "ATE0", "ATI", "AT&F", ...
 *   { kind: 'ext', name: '+CREG', form: 'read'|'test'|'write'|'exec', params, rawArgs }
 *   { kind: 'bad' }                                 syntax error
 */
export function parseLine(line) {
  if (line.length > MAX_LINE) return { kind: 'bad', tooLong: true };
  const m = /^(AT|at)(.*)$/s.exec(line.replace(/^[\s]+/, ''));
  if (!m) return null;
  const rest = stripSpaces(m[2]);
  if (rest === '') return { kind: 'empty' };
  if (/^[+*$#^]/.test(rest)) {
    const nm = /^([+*$#^][A-Za-z][A-Za-z0-9_]*)(.*)$/s.exec(rest);
    if (!nm) return { kind: 'bad' };
    const name = nm[1].toUpperCase();
    const tail = nm[2];
    if (tail === '') return { kind: 'ext', name, form: 'exec', params: [], rawArgs: '' };
    if (tail === '?') return { kind: 'ext', name, form: 'read', params: [], rawArgs: '' };
    if (tail === '=?') return { kind: 'ext', name, form: 'test', params: [], rawArgs: '' };
    if (tail[0] === '=') {
      const rawArgs = tail.slice(1);
      const params = splitParams(rawArgs);
      if (params.some((p) => p.value === null)) return { kind: 'bad' };
      return { kind: 'ext', name, form: 'write', params, rawArgs };
    }
    return { kind: 'bad' };
  }
  const bm = /^(&?[A-Za-z])(\d*)$/.exec(rest);
  if (!bm) return { kind: 'bad' };
  return { kind: 'basic', name: bm[1].toUpperCase(), arg: bm[2] };
}
