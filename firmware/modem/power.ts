// Powers the modem the way the board file says, then waits until it answers AT.
// No fixed sleep stands in for readiness: after the power-up pins (whose waits are the pulse
// widths the manuals require) the firmware polls AT, and polls again at once when the modem
// prints its ready banner (*ATREADY: 1 on the A76xx, RDY on the SIM800): the AT in flight then
// was most likely sent before the modem listened.

import type { Board, PinStep } from '../../boards/board';
import type { At } from '../at/engine';
import { log } from '../log';

const POLL_MS = 200;

export function runPinSteps(steps: PinStep[], done: () => void) {
  let i = 0;
  function step() {
    if (i == steps.length) return done();
    const s = steps[i++];
    digitalWrite(s[0], s[1]);
    if (s[2]) setTimeout(step, s[2]);
    else step();
  }
  step();
}

export function waitForAt(at: At, maxMs: number, done: (ok: boolean) => void) {
  const until = getTime() * 1000 + maxMs;
  function poll() {
    at.send({
      at: 'AT',
      ms: POLL_MS,
      quiet: true,
      cb: function (err) {
        if (!err) return done(true);
        if (getTime() * 1000 > until) return done(false);
        poll();
      },
    });
  }
  poll();
}

let booting = false; // a power-up is under way: its banner is expected
let onRestart = function () {};

/** fn runs when the modem prints its ready banner while nobody powered it up: it restarted by
 *  itself (brown-out, firmware crash) and has lost its network and MQTT state. */
export function onModemRestart(at: At, fn: () => void) {
  onRestart = fn;
  const banner = function () {
    at.expire('AT');
    if (!booting) onRestart();
  };
  at.on('*ATREADY', banner);
  at.on('RDY', banner);
}

/** Switches the modem off: PWRKEY held for the board's off pulse; or, with cut (a modem hung too
 *  hard to act on PWRKEY, whose power-off the modem's own firmware carries out), the POWER_ON rail
 *  dropped, or where there is none to drop (or it feeds the board too) the RESET line pulsed as
 *  LilyGO's examples do: 100 ms released, 2.6 s asserted, released (A7670 RESET low 2-2.5 s,
 *  "emergencies only": docs/modem-facts.md §A.2). After a RESET the modem boots by itself. */
export function powerDown(board: Board, cut: boolean, done: () => void) {
  const pk = board.pwrkey;
  const asserted = pk.inverted ? 1 : 0;
  const r = board.reset;
  if (cut && board.powerOn !== undefined && !board.keepPowerOn) {
    log('power: cutting the modem supply');
    return runPinSteps([[board.powerOn, 0, 3000]], done);
  }
  if (cut && r) {
    log('power: resetting the modem (RESET pin)');
    const off = (1 - r.activeLevel) as 0 | 1;
    return runPinSteps(
      [
        [r.pin, off, 100],
        [r.pin, r.activeLevel, 2600],
        [r.pin, off, 0],
      ],
      done,
    );
  }
  log('power: modem off by PWRKEY');
  runPinSteps(
    [
      [pk.pin, asserted, pk.offPulseMs],
      [pk.pin, (1 - asserted) as 0 | 1, 5000],
    ],
    done,
  );
}

/** Power up and wait for AT; one more PWRKEY pulse if the first boot does not answer. */
export function powerUp(board: Board, at: At, done: (err: string | null) => void) {
  booting = true;
  let tries = 0;
  function attempt() {
    tries++;
    log('power: modem on (' + board.title + ', attempt ' + tries + ')');
    runPinSteps(board.powerUp, function () {
      waitForAt(at, board.bootMaxMs, function (ok) {
        if (ok || tries >= 2) booting = false;
        if (ok) return done(null);
        if (tries < 2) return attempt();
        done(
          'the modem does not answer AT after ' +
            tries +
            ' power-ups: check the battery (the modem needs it ' +
            'even on USB on most boards), the board choice (' +
            board.id +
            ') and the UART pins ' +
            board.uart.tx +
            '/' +
            board.uart.rx,
        );
      });
    });
  }
  attempt();
}
