// SIM800L power, driven only by the T-Call's pins. Reuses the shared pin logic
// (../common/power.mjs) for power-on, RESET, POWER_ON and the supply; the PWRKEY power-off is the
// SIM800L's own and judged here. modem-facts.md §B.1 (SIM800L-HW §3.2) and §C.1:
//   PWRKEY active low, GPIO not inverted on the T-Call (board.pwrkey.inverted = false).
//   Power on: held low > 1 s (tonMs 1000).
//   Restart: wait > 800 ms after STATUS goes low (toffOnMs 800).
//   POWER_ON (GPIO 23) HIGH feeds the modem; RESET (GPIO 5) is active low.
// Power off, SIM800L(MT6261) Hardware Design V1.01 §4.2.2.1: "Customer can power down SIM800L by
//   pulling down the PWRKEY pin for at least 1.5 second and release", Figure 13 "1.5s<T1<33s",
//   and (SIM800 HD V1.09) "the pull down time exceeds 33 seconds will course the module power up".
//   So the pulse is judged when it is released: longer than toffMs (1500) and shorter than
//   restartHoldMs (33000) while on → NORMAL POWER DOWN, the UART dies ~2 s later (shutdownMs,
//   Figure 13 "T3=2s"). A pulse of exactly 1.5 s is on the figure's open bound and does nothing
//   here: the text ("at least") and the figure ("<") disagree on it, so no design may rely on it.
//   Held longer than 33 s: NORMAL POWER DOWN and the module starts again at once.
// [unverified] RESET pulse length: the references give none for SIM800L; resetMs defaults to
//   105 ms (SIM800 hardware design figure, not in the reference folder) and is configurable.
import { createPower } from '../common/power.mjs';

export const SIM800_TIMING = { tonMs: 1000, toffMs: 1500, shutdownMs: 2000, toffOnMs: 800, resetMs: 105, restartHoldMs: 33000 };

// the A76xx logic powers off while the key is still held; here it never does (finite: node's
// real-mode timers treat delays over 2^31-1 ms as 1 ms)
const NEVER_MS = 2e9;

export function createSim800Power({ clock, device, board, timing = {}, onState, keyHonoured = () => true }) {
  const t = { ...SIM800_TIMING, ...timing };
  const power = createPower({ clock, device, board, timing: { ...t, toffMs: NEVER_MS }, onState });
  const onNow = () => power.info.state === 'on' || power.info.state === 'booting';
  let holdTimer = null;
  let holdStart = null; // an assertion that began while on
  const unsub = device.pins.onChange(board.pwrkey.pin, () => {
    const asserted = power.pwrkeyAsserted();
    if (asserted && holdStart == null && holdTimer == null) {
      if (!onNow()) return;
      holdStart = clock.now();
      // > 33 s: powered down, then up again
      holdTimer = clock.setTimeout(() => {
        holdTimer = null;
        holdStart = null;
        if (!power.pwrkeyAsserted() || !power.rail()) return;
        if (onNow()) power.set('shutdown', { kind: 'pwrkey' });
        power.set('booting', { kind: 'pwrkey-restart', t0: clock.now() });
        power.info.pulses.push({ pin: 'PWRKEY', startMs: clock.now() - t.restartHoldMs, lengthMs: t.restartHoldMs, effect: 'restart (> 33 s)', whileOn: true });
      }, t.restartHoldMs);
    } else if (!asserted && holdStart != null) {
      const length = clock.now() - holdStart;
      holdStart = null;
      if (holdTimer != null) clock.clearTimeout(holdTimer);
      holdTimer = null;
      // the A76xx logic has just recorded this pulse: give it the SIM800L's verdict
      const p = power.info.pulses[power.info.pulses.length - 1];
      const off = length > t.toffMs && onNow() && power.rail() && keyHonoured(); // a hard hang ignores it (at-modem-core hang)
      if (p && p.pin === 'PWRKEY') p.effect = off ? 'power off' : `ignored: ${length} ms is not more than ${t.toffMs} ms (1.5s<T1<33s)`;
      if (!off) return;
      power.set('shutdown', { kind: 'pwrkey' });
      const g = power.info;
      clock.setTimeout(() => {
        if (g.state === 'shutdown') power.set('off', { kind: 'pwrkey' });
      }, t.shutdownMs);
    }
  });
  return { ...power, timing: t, dispose: () => (unsub(), power.dispose()) };
}
