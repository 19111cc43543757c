// Reading the real modem captures in test/fixtures/transcripts (see its README): they are messy
// (the host's own prints mixed in, each command twice: StreamDebugger's copy and the echo; the
// field log "a" has every exchange flattened onto one line; a URC can share a line with the next
// command, e.g. "+NETOPEN: 0AT+IPADDR"). This module turns one into a list of exchanges:
//   { command: 'AT+CMQTTREL=0', tokens: [{ text, name, value }], data }
// where tokens are the modem output found after the command (response lines, URCs) and data is
// what the host wrote after a ">" prompt, if the capture shows it.
// shapeOf(exchange) reduces the tokens to what a simulator must reproduce: the command's own
// info lines before the final result, the final result, and for async commands the command's
// URC after it.

// modem output tokens, in priority order at each position
const TOKEN = /\*ATREADY: \d+|\+CME ERROR: \S+|\+[A-Z][A-Z0-9]*: ?[^\s]*|\bOK\b|\bERROR\b|PB DONE|SMS DONE|^>/g;

/** Finds a command in a line: "AT" at the start, after a space / '.' / ':' / a digit. */
function findCommand(line) {
  for (let i = 0; i < line.length - 1; i++) {
    if (line[i] !== 'A' || line[i + 1] !== 'T') continue;
    const prev = i === 0 ? ' ' : line[i - 1];
    if (!/[\s.:0-9]/.test(prev)) continue;
    const next = line[i + 2] ?? '';
    if (!(next === '' || /[\s+&*$#]/.test(next) || (/[A-Z]/.test(next) && /^(\d|\s|$)/.test(line[i + 3] ?? '')))) continue;
    // the command runs to the first whitespace outside quotes
    let j = i;
    let q = false;
    while (j < line.length && (q || !/\s/.test(line[j]))) {
      if (line[j] === '"') q = !q;
      j++;
    }
    return { start: i, end: j, command: line.slice(i, j) };
  }
  return null;
}

export function tokensOf(text) {
  const out = [];
  for (const m of text.matchAll(TOKEN)) {
    const t = m[0];
    const nm = /^(\+[A-Z][A-Z0-9]*|\*ATREADY|\+CME ERROR): ?(.*)$/.exec(t);
    out.push({ text: t, name: nm ? nm[1] : t, value: nm ? nm[2] : '' });
  }
  return out;
}

const isFinal = (t) => t.name === 'OK' || t.name === 'ERROR' || t.name === '+CME ERROR';

/** Parses a capture into exchanges. */
export function parseCapture(text) {
  const items = []; // { cmd } | { tok } | { raw }
  for (const line of text.split(/\r?\n/)) {
    let rest = line;
    let found;
    while ((found = findCommand(rest))) {
      const before = rest.slice(0, found.start);
      for (const tok of tokensOf(before)) items.push({ tok });
      items.push({ cmd: found.command });
      rest = rest.slice(found.end).replace(/^\s+/, '');
    }
    const toks = tokensOf(rest);
    for (const tok of toks) items.push({ tok });
    if (rest.startsWith('>')) items.push({ raw: rest.slice(1) });
    else if (!toks.length && rest.trim()) items.push({ raw: rest });
  }
  const ex = [];
  let cur = null;
  let inData = false;
  for (const it of items) {
    if (it.cmd) {
      // the same command again before any final result: the echo / mirror copy
      if (cur && cur.command === it.cmd && !cur.tokens.some(isFinal)) continue;
      cur = { command: it.cmd, tokens: [], dataLines: [] };
      inData = false;
      ex.push(cur);
    } else if (cur && it.tok) {
      cur.tokens.push(it.tok);
      if (it.tok.name === '>') inData = true;
      if (isFinal(it.tok)) inData = false;
    } else if (cur && it.raw !== undefined && inData) cur.dataLines.push(it.raw);
  }
  for (const e of ex) {
    e.data = e.dataLines.length ? e.dataLines.join('\r\n') : null;
    delete e.dataLines;
  }
  return ex;
}

/** The command name as the modem sees it: '+CMQTTREL', 'AT', 'ATI', ... */
export function commandName(command) {
  const m = /^AT([+*$#&][A-Za-z0-9]+)/.exec(command);
  if (m) return m[1].toUpperCase();
  return command.replace(/[0-9].*$/, '').toUpperCase();
}

const ASYNC = new Set(['+CMQTTSTART', '+CMQTTSTOP', '+CMQTTCONNECT', '+CMQTTDISC', '+CMQTTPUB', '+CMQTTSUB', '+CMQTTUNSUB', '+NETOPEN', '+NETCLOSE', '+CNTP']);
export const isAsyncCommand = (command) => {
  const n = commandName(command);
  if (!ASYNC.has(n)) return false;
  if (n === '+CMQTTDISC') return /=/.test(command);
  if (n === '+CNTP') return !/[=?]/.test(command);
  return !/[?]$|=\?$/.test(command);
};

/**
 * The shape of one exchange: own info lines before the final (name, plus the values of CMQTT
 * and registration lines, which carry codes), the final ('OK', 'ERROR', '+CME ERROR: 13'), and
 * for async commands the command's own URC after it. Returns null when the capture shows no
 * final result for the command (truncated or lost in the host's prints).
 */
export function shapeOf(command, tokens) {
  const name = commandName(command);
  const fi = tokens.findIndex(isFinal);
  if (fi < 0) return null;
  const withValue = (t) => (/^\+(CMQTT|CREG|CGREG|CEREG|NETOPEN|CNTP|CPIN)/.test(t.name) ? `${t.name}: ${(/^[\d,]+/.exec(t.value) || [t.value])[0]}` : t.name);
  const shape = [];
  for (const t of tokens.slice(0, fi)) if (t.name === name) shape.push(withValue(t));
  const f = tokens[fi];
  shape.push(f.name === '+CME ERROR' ? f.text : f.name);
  if (isAsyncCommand(command) && f.name === 'OK') {
    const u = tokens.slice(fi + 1).find((t) => t.name === name);
    if (u) shape.push(withValue(u));
  }
  return shape;
}
