// Reading numbers ("n") that go up by one per reading and survive reboots and power cuts, so
// whoever receives the readings can tell a missing one from a duplicate.
//
// On flash: two Storage files "<name>0"/"<name>1", each reserved at 4064 bytes (one flash page).
// The first 16 bytes hold the number the file starts at (decimal, space-padded); after that one
// byte is programmed per reading, into 0xFF space, never rewritten: the count is where the 0xFF
// begins (a binary search at open). When a file is full the other one is started at the next
// number, and only then the full one erased: a cut at any point leaves one of them (the one that
// counts higher wins at open). Wear: one program op per reading, one page write per 4048 readings.
import { storage } from '../platform';

const SIZE = 4064;
const HEAD = 16;

export interface Counter {
  /** the number for the next reading; persisted before it is returned */
  next(): number;
}

export function openCounter(name: string): Counter {
  const S = storage();
  let file = 0;
  let base = 0;
  let used = 0;

  // number of bytes programmed after the header (they are written in order)
  function count(f: string): number {
    let lo = HEAD;
    let hi = SIZE;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (S.read(f, mid, 1) == '\xff') hi = mid;
      else lo = mid + 1;
    }
    return lo - HEAD;
  }

  for (let i = 0; i < 2; i++) {
    const head = S.read(name + i, 0, HEAD);
    const b = head ? parseInt(head, 10) : NaN;
    if (!(b >= 0)) continue; // absent or torn header
    const u = count(name + i);
    if (b + u >= base + used) {
      file = i;
      base = b;
      used = u;
    }
  }

  function start(from: number) {
    const old = file;
    file = 1 - file;
    let head = '' + from;
    while (head.length < HEAD) head += ' ';
    S.write(name + file, head, 0, SIZE);
    S.erase(name + old);
    base = from;
    used = 0;
  }

  if (!S.read(name + file, 0, 1)) start(0);

  return {
    next: function () {
      if (HEAD + used >= SIZE) start(base + used);
      S.write(name + file, 'n', HEAD + used);
      used++;
      return base + used;
    },
  };
}
