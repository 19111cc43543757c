// Every byte both ways with clock timestamps. dir 'in' = host -> modem, 'out' = modem -> host.

export function escapeBytes(s) {
  let o = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '\r') o += '\\r';
    else if (ch === '\n') o += '\\n';
    else if (c < 0x20 || c === 0x7f || c > 0xff) o += '\\x' + c.toString(16).padStart(2, '0');
    else o += ch;
  }
  return o;
}

export function createTranscript(clock) {
  const entries = []; // { t, dir, data }
  function add(dir, data) {
    if (!data) return;
    const t = clock.now();
    const last = entries[entries.length - 1];
    if (last && last.dir === dir && last.t === t) last.data += data;
    else entries.push({ t, dir, data });
  }
  return {
    entries,
    add,
    /** everything the modem wrote (dir 'out'), concatenated */
    output: () =>
      entries
        .filter((e) => e.dir === 'out')
        .map((e) => e.data)
        .join(''),
    input: () =>
      entries
        .filter((e) => e.dir === 'in')
        .map((e) => e.data)
        .join(''),
    /** readable dump: one line per chunk, `> ` host to modem, `< ` modem to host */
    text() {
      return entries.map((e) => `[${(e.t / 1000).toFixed(3).padStart(10)}] ${e.dir === 'in' ? '>' : '<'} ${escapeBytes(e.data)}`).join('\n');
    },
    clear: () => entries.splice(0),
  };
}
