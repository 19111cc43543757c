// Store and forward: readings queued in flash (Espruino Storage) until the broker acknowledged them.
//
// On flash: segment files "<name>~<seq>" (seq 1, 2, 3 … in the name), each reserved at 4064
// bytes (with Storage's 32-byte header exactly one 4 KB flash page) and then only programmed
// where still 0xFF (Storage.write(name, data, offset)), never rewritten:
//   [0..48)    header "B,h,c;crc": B = readings dropped before this segment existed, not
//              counting drop marks in segment h and later; h = the oldest segment still holding
//              readings when this one was made (older ones are fully consumed; erased after this
//              one); c = entries in the segment that was the tail until this one
//   [48..112)  one mark byte per entry, in order: 0xF0 acknowledged, 0x0F dropped for space;
//              0xFF = not yet consumed
//   [112..)    entries "\x02" reading "\x03" crc32-hex, padded with spaces to 4 bytes (so each
//              is one aligned flash write)
// An entry counts only if its frame and CRC check out: one cut short by a power loss is skipped
// on the next open, never returned, and the next entry goes after the first run of 0xFF long
// enough to hold any entry (a torn write may leave 0xFF holes, never that long).
// The newest segment with a valid header is the tail; a new tail is made when the tail is full
// (64 entries or no room), and only once its header is written are the consumed segments before
// h erased, so a power cut at any point leaves the old or the new state readable.
// A pad file "<name>~0" (made once, kept) puts the first segment on a page boundary, so all of
// them sit on whole pages: Storage compaction then starts at the first erased segment, never
// touches the files before (the boot code), and copies each live page before erasing it (a name
// found twice at open is such a copy: the first one goes, see below).
//
// Flash work (bench/flash-queue.mjs, 83-byte readings, 41 per segment): a push is 1 program op,
// an ack 1; a new segment 2 more (file header, our header) + 1 erase mark per consumed segment:
// 2.07 program ops per reading. No page is erased per reading: pages are erased only by Storage
// compaction, when new segments have used up the free space; it erases each used page once, so
// each page is erased once per (free space / ~100 B) readings: 22 erases per 1,000 readings with
// maxReadings 500, 51 with 5,000. A full queue holds ~100 B of flash per reading (4 KB per 41).
// Opening reads the entries of the head and tail segments only (each header also records how many
// entries the segment before it got), so it does not slow down with the queue's length. RAM: two
// segment records and a dozen variables (~120 JsVars in the real interpreter), whatever maxReadings.
import { storage } from '../platform';

export interface FlashQueue {
  /** stores it (dropping the oldest first if full); throws 'bad reading' if longer than 512 bytes or
   * holding \x02 \x03 \xff, and Storage's own error if Storage cannot make room */
  push(reading: string): void;
  /** oldest unacknowledged reading, or null */
  peek(): string | null;
  /** the oldest one was acknowledged: remove it */
  ack(): void;
  /** readings waiting */
  size(): number;
  /** readings dropped for space since the queue was created (persisted across reboots) */
  dropped(): number;
}

// a segment as far as RAM needs it
interface Seg {
  q: number; // sequence number (in the file name)
  n: number; // entries
  m: number; // consumed (marked) entries
  d: number; // of which dropped
  p: number; // offset of entry #m (the oldest unconsumed one), -1 if it cannot be read
  e: number; // offset where the next entry goes (tail only)
  b: number; // header: B
  h: number; // header: h
  c: number; // header: entries of the segment that was the tail when this one was made
}

var SEG = 4064;
var MARKS = 48;
var NMAX = 64;
var DATA = 112; // MARKS + NMAX
var MAXLEN = 512; // longest reading
var W = 524; // longest entry: MAXLEN + 10, padded to 4
// Marks: bit complements, so that a mark cut half-way (some of its 0 bits still 1) is still
// told apart: a byte with all of DROP's 1 bits set is a drop, any other non-0xFF byte an ack.
var ACK = '\xf0';
var DROP = '\x0f';

function hex4(v: number): string {
  return ('000' + (v & 65535).toString(16)).slice(-4);
}
// 8 hex digits (E.CRC32 gives an unsigned number, beyond 32-bit ints: halves keep it in integers)
function crc(s: string): string {
  var c = E.CRC32(s);
  return hex4(c >> 16) + hex4(c);
}

var end = 0; // end of the entry ent() found last
// offset of the first valid entry at or after i in segment text s, or -1
function ent(s: string, i: number): number {
  for (;;) {
    i = s.indexOf('\x02', i);
    if (i < 0) return i;
    var e = s.indexOf('\x03', i);
    var j = s.indexOf('\x02', i + 1);
    if (e > 0 && (j < 0 || j > e) && s.substr(e + 1, 8) == crc(s.substring(i + 1, e))) {
      end = e + 9;
      return i;
    }
    i++;
  }
}

export function openFlashQueue(name: string, maxReadings: number): FlashQueue {
  var S = storage();
  var pre = name + '~';
  if (pre.length > 21) throw new Error('name too long');
  var hd: Seg | null = null; // head: oldest segment with unconsumed readings, else the tail
  var tl: Seg | null = null; // tail: the segment appended to
  var sz = 0;
  var dr = 0;
  var lo = 0; // lowest sequence number that may still be on flash
  var top = 0; // highest sequence number used
  var ffw = ''; // W bytes of 0xFF, while opening

  function nm(q: number): string {
    return pre + q;
  }

  // The segment (header and marks; with `full` its entries too: n, p, e), or null. A file with a
  // torn header is erased, and then any second copy a compaction cut short left behind is tried.
  function load(q: number, full?: number): Seg | null {
    var s = S.read(nm(q));
    if (s === undefined) return null;
    var k = s.indexOf(';');
    if (k < 0 || k > 40 || s.substr(k + 1, 8) != crc(s.substring(0, k))) {
      S.erase(nm(q));
      return load(q, full);
    }
    var f = s.substring(0, k).split(',');
    var mk = s.substr(MARKS, NMAX);
    var m = mk.indexOf('\xff');
    if (m < 0) m = NMAX;
    mk = mk.substring(0, m);
    var x: Seg = { q: q, n: 0, m: m, d: mk.split(DROP).length - 1, p: -1, e: DATA, b: +f[0], h: +f[1], c: +f[2] };
    var i = m - x.d - mk.split(ACK).length + 1; // marks cut half-way
    for (i = i ? 0 : m; i < m; i++) if ((mk.charCodeAt(i) & 15) == 15 && mk.charCodeAt(i) != 15) x.d++;
    if (full) {
      i = DATA;
      while ((i = ent(s, i)) >= 0) {
        if (x.n++ == m) x.p = i;
        i = x.e = end;
      }
      if (ffw) {
        i = s.indexOf(ffw, x.e);
        x.e = i < 0 ? SEG : (i + 3) & ~3;
      }
      if (m > x.n) x.e = SEG; // entries lost under marks (a torn compaction copy): append no more here
    }
    return x;
  }

  // the segment after q, read in full as the new head, with its entry count from the header of
  // the one after it (what was written, even if a compaction cut short lost some since)
  function ahead(q: number): Seg {
    var t = tl as Seg;
    var x: Seg | null = null;
    var y: Seg | null = null;
    while (!x) x = ++q == t.q ? t : load(q, 1);
    while (x !== t && !y) y = ++q == t.q ? t : load(q);
    if (y) x.n = y.c;
    return x;
  }

  // marks the oldest entry consumed (ACK or DROP) and moves the head on
  function mark(c: string) {
    var h = hd as Seg;
    S.write(nm(h.q), c, MARKS + h.m);
    sz--;
    if (c == DROP) {
      h.d++;
      dr++;
    }
    if (++h.m < h.n && h.p >= 0) {
      var s = S.read(nm(h.q), h.p) as string;
      ent(s, 0);
      var j = ent(s, end);
      h.p = j < 0 ? j : h.p + j;
    }
    while (h !== tl && h.m >= h.n) h = ahead(h.q);
    hd = h;
  }

  // a new tail; then the segments before the head are erased
  function roll() {
    var q = ++top;
    // the first segment starts on a page boundary (a pad file "<name>~0", kept, fills the gap), so
    // every segment is one whole page: compaction then starts at the first erased segment, leaves
    // the files before it (the boot code) alone, and moves each live page before erasing it
    var st = S.getStats();
    var g = (st.freeBytes - st.totalBytes) & 4095;
    if (g && S.read(nm(0), 0, 1) === undefined) S.write(nm(0), '-', 0, g < 36 ? g + 4064 : g - 32);
    var h = hd && hd.m < hd.n ? hd : null;
    var c = tl ? tl.n : 0;
    var t = dr - (h ? h.d : 0) + ',' + (h ? h.q : q) + ',' + c;
    t += ';' + crc(t);
    while (t.length & 3) t += ' ';
    S.write(nm(q), t, 0, SEG);
    tl = { q: q, n: 0, m: 0, d: 0, p: DATA, e: DATA, b: 0, h: 0, c: c };
    if (!h) hd = tl;
    for (var i = lo; i < (hd as Seg).q; i++) S.erase(nm(i));
    lo = (hd as Seg).q;
  }

  // open: the newest valid segment is the tail (read in full; a torn newer one is erased), the
  // others only as far as header and marks, their entry counts from the headers after them
  // (in a function of its own: its locals are not kept by the closures above)
  function init() {
    var qs: number[] = [];
    S.list().forEach(function (f: string) {
      var q = +f.substring(pre.length);
      if (f.substring(0, pre.length) != pre || !(q > 0) || nm(q) != f) return;
      if (qs.indexOf(q) < 0) qs.push(q);
      else {
        // listed twice: a compaction cut short left a copy (maybe half written) before the
        // original. The first one goes; if the name is then gone (the copy's header was torn, so
        // Storage found the original), the original is written again from RAM.
        var s = S.read(f) + '';
        S.erase(f);
        if (S.read(f, 0, 1) === undefined) S.write(f, s);
      }
    });
    qs.sort(function (a: number, b: number) {
      return a - b;
    });
    if (qs.length) top = qs[qs.length - 1];
    ffw = '\xff'.repeat(W);
    while (qs.length && !(tl = load(qs[qs.length - 1], 1))) qs.pop();
    ffw = '';
    lo = top + 1;
    if (tl) {
      dr = tl.b + tl.d;
      lo = tl.q;
      if (tl.m < tl.n) {
        sz = tl.n - tl.m;
        hd = tl;
      }
      var c = tl.c;
      for (var i = qs.length - 2; i >= 0; i--) {
        var q = qs[i];
        var x: Seg | null = q < tl.h ? null : load(q);
        if (!x) {
          S.erase(nm(q)); // consumed before the tail was made
          continue;
        }
        x.n = c;
        c = x.c;
        lo = q;
        dr += x.d;
        if (x.m < x.n) {
          sz += x.n - x.m;
          hd = x;
        }
      }
      if (!hd) hd = tl;
      if (hd !== tl) {
        c = hd.n;
        hd = load(hd.q, 1) as Seg;
        hd.n = c;
      }
    }
  }
  init();

  return {
    push: function (r: string) {
      if (r.length > MAXLEN || r.indexOf('\x02') >= 0 || r.indexOf('\x03') >= 0 || r.indexOf('\xff') >= 0) {
        throw new Error('bad reading');
      }
      while (sz && sz >= maxReadings) mark(DROP);
      var x = '\x02' + r + '\x03' + crc(r);
      while (x.length & 3) x += ' ';
      if (!tl || tl.n >= NMAX || tl.e + x.length > SEG) roll();
      var t = tl as Seg;
      S.write(nm(t.q), x, t.e);
      if (hd === t && t.m == t.n) t.p = t.e;
      t.e += x.length;
      t.n++;
      sz++;
    },
    peek: function () {
      while (sz) {
        var h = hd as Seg;
        if (h.p >= 0) {
          var s = S.read(nm(h.q), h.p, W) as string;
          if (!ent(s, 0)) return s.substring(1, end - 9);
        }
        mark(ACK); // an entry a compaction cut short has lost: skipped
      }
      return null;
    },
    ack: function () {
      if (sz) mark(ACK);
    },
    size: function () {
      return sz;
    },
    dropped: function () {
      return dr;
    },
  };
}
