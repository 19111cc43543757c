// SIM800L power, driven only by the T-Call's pins. Reuses the A76xx pin logic
// (../a76xx/power.mjs) with SIM800L timings; only what differs is added here.
// modem-facts.md §B.1 (SIM800L-HW §3.2) and §C.1:
//   PWRKEY active low, GPIO not inverted on the T-Call (board.pwrkey.inverted = false).
//   Power on: held low > 1 s (tonMs 1000). Power off: held low 1.5 s..33 s (toffMs 1500), the
//   module prints NORMAL POWER DOWN and the UART dies ~2 s later (shutdownMs 2000).
//   Held longer than 33 s: the module restarts (restartHoldMs 33000).
//   Restart: wait > 800 ms after STATUS goes low (toffOnMs 800).
//   POWER_ON (GPIO 23) HIGH feeds the modem; RESET (GPIO 5) is active low.
// [unverified] RESET pulse length: the references give none for SIM800L; resetMs defaults to
//   105 ms (SIM800 hardware design figure, not in the reference folder) and is configurable.
import { createPower } from '../a76xx/power.mjs';

export const SIM800_TIMING = { tonMs: 1000, toffMs: 1500, shutdownMs: 2000, toffOnMs: 800, resetMs: 105, restartHoldMs: 33000 };

export function createSim800Power({ clock, device, board, timing = {}, onState }) {
  const t = { ...SIM800_TIMING, ...timing };
  const power = createPower({ clock, device, board, timing: t, onState });
  // > 33 s hold that started while on: restart (the A76xx logic alone would leave it off)
  let holdTimer = null;
  let holdStartedOn = false;
  const unsub = device.pins.onChange(board.pwrkey.pin, () => {
    const asserted = power.pwrkeyAsserted();
    if (asserted && holdTimer == null) {
      holdStartedOn = power.info.state === 'on' || power.info.state === 'booting';
      if (!holdStartedOn) return;
      holdTimer = clock.setTimeout(() => {
        holdTimer = null;
        if (power.pwrkeyAsserted() && power.rail()) {
          const p = power.info.pulses;
          power.set('booting', { kind: 'pwrkey-restart', t0: clock.now() });
          p.push({ pin: 'PWRKEY', startMs: clock.now() - t.restartHoldMs, lengthMs: t.restartHoldMs, effect: 'restart (> 33 s)', whileOn: true });
        }
      }, t.restartHoldMs);
    } else if (!asserted && holdTimer != null) {
      clock.clearTimeout(holdTimer);
      holdTimer = null;
    }
  });
  return { ...power, timing: t, dispose: () => (unsub(), power.dispose()) };
}
