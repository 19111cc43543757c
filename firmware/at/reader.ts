// Turns the modem's byte stream into lines. Three things make this more than split('\r\n'):
// - the data prompt '>' comes without a line end, and the modem waits for us after it;
// - some URCs announce a block of raw bytes (+CMQTTRXPAYLOAD: 0,60 then 60 bytes, which may hold
//   CR/LF of their own), so the reader must hand over exactly N bytes, not lines;
// - chunks split anywhere, including between the CR and LF of one line end.
// Lines end at CR, LF or CRLF; empty lines are dropped; a line longer than maxLine is cut there
// (the rest, up to the next line end, is discarded) so a noisy UART cannot grow the buffer.
// A raw block longer than maxRaw (default 10240) is refused as a garbled length: else every later
// byte, answers included, would be taken as its data and kept.

export interface LineReader {
  feed(chunk: string): void;
  /** The next n bytes go to cb as one string instead of becoming lines (n not in 1..maxRaw:
   *  cb('') at once). */
  readRaw(n: number, cb: (data: string) => void): void;
  /** While set, a line that is only '>' (or '> ') is reported as a prompt as soon as it arrives. */
  wantPrompt: boolean;
}

export function createLineReader(onLine: (line: string) => void, onPrompt: () => void, maxLine: number, maxRaw?: number): LineReader {
  const rawMax = maxRaw || 10240;
  let buf = '';
  let skipLF = false; // the last line ended in CR: a LF right after it belongs to that line end
  let dropping = false; // inside an over-long line, discarding up to its end
  let rawLeft = 0;
  let raw = '';
  let rawCb: ((data: string) => void) | null = null;

  function endLine() {
    const line = buf.trim();
    buf = '';
    if (dropping) dropping = false;
    else if (line) onLine(line);
  }

  const reader: LineReader = {
    wantPrompt: false,
    readRaw: function (n, cb) {
      n = Math.floor(n); // a fraction would never be used up: the loop in feed() would not end
      rawLeft = n > 0 && n <= rawMax ? n : 0;
      raw = '';
      rawCb = cb;
      if (!rawLeft) {
        rawCb = null;
        cb('');
      }
    },
    feed: function (chunk) {
      let i = 0;
      while (i < chunk.length) {
        if (skipLF) {
          skipLF = false;
          if (chunk.charAt(i) == '\n') {
            i++;
            continue;
          }
        }
        if (rawLeft > 0) {
          const part = chunk.substr(i, rawLeft);
          raw += part;
          rawLeft -= part.length;
          i += part.length;
          if (!rawLeft && rawCb) {
            const cb = rawCb;
            const data = raw;
            rawCb = null;
            raw = '';
            cb(data);
          }
          continue;
        }
        const cr = chunk.indexOf('\r', i);
        const lf = chunk.indexOf('\n', i);
        const end = cr < 0 ? lf : lf < 0 ? cr : cr < lf ? cr : lf;
        if (end < 0) {
          if (!dropping) buf += chunk.substr(i);
          i = chunk.length;
        } else {
          if (!dropping) buf += chunk.substring(i, end);
          skipLF = chunk.charAt(end) == '\r';
          i = end + 1;
        }
        if (buf.length > maxLine) {
          buf = buf.substr(0, maxLine);
          endLine();
          dropping = end < 0; // the rest of this line is still to come: discard it
          continue;
        }
        if (end >= 0) endLine();
        else if (reader.wantPrompt && buf.trim() == '>') {
          buf = '';
          onPrompt();
        }
      }
    },
  };
  return reader;
}
