// One status line per event, prefixed with seconds since boot, on the console (USB serial).
// Callers never pass secrets here: the AT engine logs a hidden command by its name only.

const t0 = getTime();

export function log(msg: string) {
  console.log('[' + (getTime() - t0).toFixed(1) + '] ' + msg);
}
