// One status line per event, prefixed with seconds since boot, on the console (USB serial), and
// the last RING_N of them (cut to RING_W characters) kept in RAM for {"cmd":"log"} (remote/).
// Callers never pass secrets here: the AT engine logs a hidden command by its name only.
//
// getTime() is the RTC, which jumps when the network time is set, so uptime keeps its own
// offset: setUtc() moves the RTC and remembers by how much.

let shift = -getTime();
let utcKnown = false;

export function uptime(): number {
  return getTime() + shift;
}

export function setUtc(secs: number) {
  const up = uptime();
  setTime(secs);
  shift = up - getTime();
  utcKnown = true;
}

/** The network has given the time (the SIM800 may never: then readings carry uptime only). */
export function timeKnown(): boolean {
  return utcKnown;
}

// full: about 130 JsVars (12 lines of at most 96 characters: 10 each, and the array)
const RING_N = 12;
const RING_W = 96;
const ring: string[] = [];

export function log(msg: string) {
  const line = '[' + uptime().toFixed(1) + '] ' + msg;
  console.log(line);
  if (ring.length >= RING_N) ring.shift();
  ring.push(line.substr(0, RING_W));
}

/** The last n log lines (all kept when n is not a positive number), oldest first. */
export function recentLog(n?: any): string[] {
  return ring.slice(n > 0 ? Math.max(0, ring.length - n) : 0);
}
