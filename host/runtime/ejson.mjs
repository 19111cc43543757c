// Storage.writeJSON / readJSON formats (src/jswrap_storage.c:238, src/jswrap_json.c).
// writeJSON uses JSON_DROP_QUOTES|JSON_IGNORE_FUNCTIONS|JSON_NO_UNDEFINED|JSON_ARRAYBUFFER_AS_ARRAY
// without JSON_ALL_UNICODE_ESCAPE: keys that are identifiers or integers lose their quotes and
// strings use JS escapes (\xXX, \0..\7), so the file is *not* JSON: `{a:1,"b-c":"\xE9"}`.
// readJSON parses that liberally (jswrap_json_parse_liberal).

const ID = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function escapeString(s) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    const next = i + 1 < s.length ? s.charCodeAt(i + 1) : -1;
    if (ch === 10) out += '\\n';
    else if (ch === 9) out += '\\t';
    else if (ch === 8) out += '\\b';
    else if (ch === 11) out += '\\v';
    else if (ch === 12) out += '\\f';
    else if (ch === 13) out += '\\r';
    else if (ch === 92) out += '\\\\';
    else if (ch === 34) out += '\\"';
    else if (ch < 8 && (next < 48 || next > 55)) out += '\\' + ch;
    else if (ch < 32 || ch >= 127) {
      out += ch > 255 ? '\\u' + ch.toString(16).toUpperCase().padStart(4, '0') : '\\x' + ch.toString(16).toUpperCase().padStart(2, '0');
    } else out += s[i];
  }
  return out + '"';
}

export function espruinoStringify(v, isTyped) {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'undefined':
    case 'function':
      return undefined;
    case 'boolean':
      return String(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'string':
      return escapeString(v);
    default:
  }
  if (typeof v.toJSON === 'function' && !isTyped(v)) return espruinoStringify(v.toJSON(), isTyped);
  if (Array.isArray(v) || isTyped(v)) {
    const parts = [];
    for (let i = 0; i < v.length; i++) {
      const s = espruinoStringify(v[i], isTyped);
      parts.push(s === undefined ? 'null' : s);
    }
    return '[' + parts.join(',') + ']';
  }
  if (v instanceof ArrayBuffer || Object.prototype.toString.call(v) === '[object ArrayBuffer]') {
    return '[' + Array.from(new Uint8Array(v)).join(',') + ']';
  }
  const parts = [];
  for (const k of Object.keys(v)) {
    const s = espruinoStringify(v[k], isTyped);
    if (s === undefined) continue;
    const key = ID.test(k) || /^-?\d+$/.test(k) ? k : escapeString(k);
    parts.push(key + ':' + s);
  }
  return '{' + parts.join(',') + '}';
}

/** Liberal JSON: unquoted keys, JS string escapes, single quotes. Throws SyntaxError-like Error. */
export function parseLiberal(text, mk) {
  let i = 0;
  const s = text;
  const fail = (what) => {
    throw mk(`Got ${what} expected a value`);
  };
  const ws = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  function str() {
    const q = s[i++];
    let out = '';
    while (i < s.length && s[i] !== q) {
      let c = s[i++];
      if (c === '\\') {
        c = s[i++];
        if (c === 'n') out += '\n';
        else if (c === 't') out += '\t';
        else if (c === 'r') out += '\r';
        else if (c === 'b') out += '\b';
        else if (c === 'f') out += '\f';
        else if (c === 'v') out += '\v';
        else if (c === 'x') {
          out += String.fromCharCode(parseInt(s.substr(i, 2), 16));
          i += 2;
        } else if (c === 'u') {
          out += String.fromCharCode(parseInt(s.substr(i, 4), 16));
          i += 4;
        } else if (c >= '0' && c <= '7') {
          let o = c;
          while (o.length < 3 && s[i] >= '0' && s[i] <= '7') o += s[i++];
          out += String.fromCharCode(parseInt(o, 8));
        } else out += c;
      } else out += c;
    }
    if (s[i] !== q) fail('end of string');
    i++;
    return out;
  }
  function value() {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      const o = mk.obj();
      ws();
      if (s[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        let k;
        if (s[i] === '"' || s[i] === "'") k = str();
        else {
          const m = /^[A-Za-z0-9_$\-]+/.exec(s.slice(i));
          if (!m) fail(JSON.stringify(s[i]));
          k = m[0];
          i += k.length;
        }
        ws();
        if (s[i] !== ':') fail(JSON.stringify(s[i]));
        i++;
        o[k] = value();
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === '}') {
          i++;
          return o;
        }
        fail(JSON.stringify(s[i]));
      }
    }
    if (c === '[') {
      i++;
      const a = mk.arr();
      ws();
      if (s[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ']') {
          i++;
          return a;
        }
        fail(JSON.stringify(s[i]));
      }
    }
    if (c === '"' || c === "'") return str();
    const m = /^(-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|true|false|null|undefined|NaN|Infinity|-Infinity)/.exec(s.slice(i));
    if (!m) fail(i >= s.length ? 'EOF' : JSON.stringify(s[i]));
    i += m[0].length;
    const t = m[0];
    if (t === 'true') return true;
    if (t === 'false') return false;
    if (t === 'null') return null;
    if (t === 'undefined') return undefined;
    return Number(t);
  }
  const v = value();
  ws();
  if (i < s.length) fail(JSON.stringify(s[i]));
  return v;
}
