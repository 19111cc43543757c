// One status line per event, prefixed with seconds since boot, on the console (USB serial).
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

export function log(msg: string) {
  console.log('[' + uptime().toFixed(1) + '] ' + msg);
}
