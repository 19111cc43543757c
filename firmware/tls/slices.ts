// Long arithmetic (an X25519 ladder, an RSA exponentiation) runs in slices from timers, so that
// between two slices Espruino reads the UART, runs the AT engine's timeouts and the watchdog kick.
// Each work() call should take ≲ 100 ms on the ESP32 (≈ 2 ms in the native Linux interpreter).

/**
 * Calls work() from timers until it returns true, then done() from a timer of its own: the last
 * work() and what done() starts next (the caller's result check, the next operation's setup) are two
 * slices, not one (measured in bench/tls.mjs: they made 12–17 ms native slices together).
 */
export function slices(work: () => boolean, done: () => void): void {
  function run() {
    if (work()) setTimeout(done, 0);
    else setTimeout(run, 0);
  }
  setTimeout(run, 0);
}
