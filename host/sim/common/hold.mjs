// Real I/O in a simulator (a broker connection, a socket) runs under clock.hold(): virtual time
// stands still while the real peer answers, and a real-time guard releases the hold so a silent
// peer cannot freeze the clock. Used by ../a76xx/mqtt-link.mjs and ../sim800/link.mjs.

/** Opens a hold on the clock; the returned function ends it (once). A real timer ends it too. */
export function holdFor(clock, realMs, onTimeout) {
  const release = clock.hold();
  let done = false;
  const guard = setTimeout(() => {
    if (done) return;
    done = true;
    release();
    if (onTimeout) onTimeout();
  }, realMs);
  return () => {
    if (done) return false;
    done = true;
    clearTimeout(guard);
    release();
    return true;
  };
}
