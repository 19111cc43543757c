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
  const notes = []; // { t, text }: what the simulator says about itself (e.g. a stand-in), not bytes
  function add(dir, data) {
    if (!data) return;
    const t = clock.now();
    const last = entries[entries.length - 1];
    if (last && last.dir === dir && last.t === t) last.data += data;
    else entries.push({ t, dir, data });
  }
  return {
    entries,
    notes,
    add,
    /** a remark of the simulator's own (kept apart from the bytes; shown in text() with `#`) */
    note(text) {
      notes.push({ t: clock.now(), text });
    },
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
      const at = (t) => `[${(t / 1000).toFixed(3).padStart(10)}]`;
      const lines = entries.map((e) => ({ t: e.t, s: `${at(e.t)} ${e.dir === 'in' ? '>' : '<'} ${escapeBytes(e.data)}` }));
      for (const n of notes) {
        const i = lines.findIndex((l) => l.t > n.t);
        lines.splice(i < 0 ? lines.length : i, 0, { t: n.t, s: `${at(n.t)} # ${n.text}` });
      }
      return lines.map((l) => l.s).join('\n');
    },
    clear: () => {
      entries.splice(0);
      notes.splice(0);
    },
  };
}
