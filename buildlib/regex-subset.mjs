// Checks a regular expression against the subset Espruino's matcher implements
// (src/jswrap_regexp.c, matchhere/matchcharacter): ^ $ . * + | ( ) [ ] [^ ] and the escapes
// \d \D \w \W \s \S \f \n \r \t \v \0 \xHH and escaped punctuation.
// Safe rules chosen here (unsupported syntax fails silently on the device, so be strict):
//   * `*` and `+` only directly after a character, `.`, escape or class — not after `)`,
//     another quantifier, `(`, `|`, `^`, `$` or at the start;
//   * no `?` at all (optional, lazy, `(?:`, lookaround), no `{` (numeric quantifiers; write a
//     literal brace as `\{`);
//   * `|` only at the top level: every `|` inside a group is rejected (the matcher jumps to
//     the next `|` of the whole pattern, so in-group alternation is only right in special cases);
//   * groups may not nest (a `)` ends the most recently opened group), at most 9 groups;
//   * no \b \B (\b is backspace there), backreferences, \u, \c, \k, \p, \P; flags g and i only.

const ESCAPES = new Set(['d', 'D', 's', 'S', 'w', 'W', 'f', 'n', 'r', 't', 'v', '0']);
const BAD_ESCAPES = {
  b: '\\b is a word boundary in JS but backspace in Espruino: test the neighbouring characters explicitly or split the text',
  B: '\\B (non-boundary) is not supported',
  u: '\\u escapes are not supported: put the character itself in the pattern or use \\xHH for bytes',
  c: '\\c control escapes are not supported: use \\xHH',
  k: 'named backreferences are not supported',
  p: 'unicode property escapes are not supported',
  P: 'unicode property escapes are not supported',
};

/**
 * @param {string} pattern regex source (as in /pattern/)
 * @param {string} flags
 * @returns {Array<{offset:number, message:string}>} problems, offset into the pattern
 */
export function checkRegexSubset(pattern, flags = '') {
  const errs = [];
  const err = (offset, message) => errs.push({ offset, message });
  for (const f of flags) {
    if (f !== 'g' && f !== 'i') err(-1, `flag "${f}" is not supported (Espruino knows only g and i)`);
  }
  let prev = 'start'; // start | atom | close | quant | open | alt | anchor
  let depth = 0;
  let groups = 0;
  const escape = (i, inClass) => {
    const c = pattern[i + 1];
    if (c === undefined) return 1;
    if (c === 'b' && inClass) return 2; // [\b] is backspace in both engines
    if (BAD_ESCAPES[c]) {
      err(i, BAD_ESCAPES[c]);
      return 2;
    }
    if (c >= '1' && c <= '9') {
      err(i, `\\${c}: backreferences (and octal escapes) are not supported; capture and compare in code`);
      return 2;
    }
    if (c === '0' && /[0-9]/.test(pattern[i + 2] || '')) {
      err(i, 'octal escapes are not supported: use \\xHH');
      return 3;
    }
    if (c === 'x') {
      if (!/^[0-9a-fA-F]{2}$/.test(pattern.slice(i + 2, i + 4))) err(i, '\\x needs exactly two hex digits');
      return 4;
    }
    return 2; // \d \s \w … or an escaped literal
  };
  for (let i = 0; i < pattern.length;) {
    const c = pattern[i];
    if (c === '\\') {
      i += escape(i, false);
      prev = 'atom';
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? escape(j, true) : 1;
      i = j + 1;
      prev = 'atom';
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] === '?') err(i, '(?:…), lookahead and lookbehind are not supported: use a plain group or none');
      if (depth > 0) err(i, 'nested groups are not supported (a ")" closes the last opened group): flatten the pattern');
      depth++;
      groups++;
      if (groups === 10) err(i, 'more than 9 groups: Espruino keeps at most 9 captures');
      prev = 'open';
      i += pattern[i + 1] === '?' ? 2 : 1;
      continue;
    }
    if (c === ')') {
      depth = Math.max(0, depth - 1);
      prev = 'close';
      i++;
      continue;
    }
    if (c === '|') {
      if (depth > 0)
        err(
          i,
          'alternation "|" inside a group is not supported (the matcher jumps to the next "|" of the whole pattern): use top-level alternatives, separate regexes, or indexOf',
        );
      prev = 'alt';
      i++;
      continue;
    }
    if (c === '*' || c === '+') {
      if (prev === 'close') err(i, `"${c}" after a group: Espruino repeats single characters or classes only`);
      else if (prev !== 'atom') err(i, `"${c}" must follow a character, "." or a class (quantifiers cannot be combined)`);
      prev = 'quant';
      i++;
      continue;
    }
    if (c === '?') {
      err(i, '"?" is not supported (optional, lazy *? +? and (?…) groups): write both variants as top-level alternatives or parse with indexOf');
      prev = 'quant';
      i++;
      continue;
    }
    if (c === '{') {
      err(i, '"{" is not supported: numeric quantifiers {n,m} are not implemented — repeat the character (aa, aa*) or escape a literal brace as \\{');
      prev = 'atom';
      i++;
      continue;
    }
    if (c === '^' || c === '$') {
      prev = 'anchor';
      i++;
      continue;
    }
    prev = 'atom';
    i++;
  }
  return errs;
}
