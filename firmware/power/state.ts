// What a duty-cycled station must remember across deep sleep (RAM is lost; RTC memory is not
// reachable from JS), in one small Storage file written only when something in it changes: at an
// upload, when the battery rule changes, when the interval is changed by command.
// A torn write (power cut while Storage writes it) leaves a file that does not parse: the station
// then starts as after a first boot (upload at once, time unknown until the network gives it).
// No reading is lost that way: readings live in the flash queue (store/flash-queue.ts), not here.
import { storage } from '../platform';

const FILE = 'cpd';

export interface DutyState {
  /** RTC seconds of the last successful upload (0: none yet) */
  u: number;
  /** uploads failed in a row (the first is retried at the next wake, later ones after (f - 1)
   *  upload periods, counted from a: the RTC seconds when the last one ended) */
  f: number;
  a: number;
  /** the RTC has been set from the network time once (it keeps counting through deep sleep) */
  k: number;
  /** RTC seconds of the last sync with the network time */
  s: number;
  /** the RTC's learned drift, seconds per second (network minus RTC), and over how long (s) */
  r: number;
  w: number;
  /** the number of the last reading taken before the last sync */
  n: number;
  /** windows of readings whose timestamps the last syncs corrected: [first n, last n, RTC start, rate fix] */
  c: number[][];
  /** the low-battery rule in force: 0 none, 1 slowed, 2 stopped */
  l: number;
  /** reading interval set by command (0: the config's) */
  i: number;
}

let last = '';

export function loadState(): DutyState {
  let st: any = null;
  try {
    last = storage().read(FILE) || '';
    st = JSON.parse(last);
  } catch (e) {}
  if (!st || typeof st.u != 'number') st = { u: 0, f: 0, a: 0, k: 0, s: 0, r: 0, w: 0, n: 0, c: [], l: 0, i: 0 };
  return st;
}

/** Writes the state if it differs from what the file holds. */
export function saveState(st: DutyState) {
  const j = JSON.stringify(st);
  if (j == last) return;
  storage().write(FILE, j);
  last = j;
}
