// LTE power saving mode on the A76xx (config power.modem "psm" in duty-cycle mode, build flag
// __PSM__): after each attach the firmware asks for PSM with timers derived from the upload
// interval, asks for eDRX, and logs what the network granted. For the duty cycle:
//   psmEnter(done)   nothing to send: the modem enters PSM by itself after the granted Active
//                    Time (T3324) of idle; done(true) if PSM was granted at the last attach,
//                    done(false) if not (then power the modem off instead)
//   psmWake(at, done) PWRKEY pulse (the board's on-pulse: ≥ Ton 50 ms, far below the 2.5 s that
//                    powers it off), then AT until it answers; done(ok)
// (in PSM the UART is dead until PWRKEY or the periodic TAU wakes it: host/sim/common/sleep.mjs)
//
// AT+CPSMS=<mode>[,<RAU>,<GPRS-READY>,<Periodic-TAU>,<Active-Time>] (A76XX AT manual V1.09
// §34.2.2, AUTO_SAVE): the timers are one octet each as an 8-bit string, bits 8-6 the unit and
// bits 5-1 the value (e.g. "01101111" = 15 × 2 s, the manual's example):
//   Periodic-TAU = T3412 extended, GPRS Timer 3 (3GPP TS 24.008 §10.5.7.4a, Table 10.5.163a):
//     000 10 min, 001 1 h, 010 10 h, 011 2 s, 100 30 s, 101 1 min, 110 320 h, 111 deactivated
//   Active-Time = T3324, GPRS Timer 2 (§10.5.7.3, Table 10.5.163):
//     000 2 s, 001 1 min, 010 decihours (6 min), 111 deactivated (others: 1 min)
// What was granted: AT+CEREG=4 makes the read form carry it (3GPP TS 27.007 §10.1.22:
// +CEREG: 4,<stat>,[<tac>],[<ci>],[<AcT>],[<cause_type>],[<reject_cause>],[<Active-Time>],
// [<Periodic-TAU>]); the A76XX manual V1.09 lists n 0-2 only (§5.2.2), so a modem may refuse it,
// and AT+CEDRXS / AT+CEDRXRDP (27.007 §7.40, §7.41) are not in that manual at all: both are tried,
// and a refusal is logged, not an error.
import type { Board } from '../../boards/board';
import type { At } from '../at/engine';
import { answerLine } from '../at/engine';
import { script } from '../at/script';
import { log } from '../log';
import { runPinSteps, waitForAt } from './power';

const T3 = [600, 3600, 36000, 2, 30, 60, 1152000];
const T2 = [2, 60, 360];
/** Active Time asked for: the modem stays reachable this long after an upload, then sleeps */
const ACTIVE_S = 10;
/** eDRX cycle asked for on E-UTRAN: "0101" = 81.92 s (24.008 Table 10.5.5.32) */
const EDRX = '0101';

/** The smallest timer value of at least s seconds (the largest one if none is), as the 8-bit
 *  string AT+CPSMS takes: timer3 = Periodic-TAU (GPRS Timer 3), else Active-Time (GPRS Timer 2). */
export function psmTimer(s: number, timer3: boolean): string {
  const u = timer3 ? T3 : T2;
  let unit = -1;
  let v = 31;
  let big = 0;
  for (let i = 0; i < u.length; i++) {
    const n = Math.max(1, Math.ceil(s / u[i]));
    if (n <= 31 && (unit < 0 || n * u[i] < v * u[unit])) {
      unit = i;
      v = n;
    }
    if (u[i] > u[big]) big = i;
  }
  if (unit < 0) unit = big;
  let b = (unit * 32 + v).toString(2);
  while (b.length < 8) b = '0' + b;
  return b;
}

/** Seconds of such an 8-bit string; -1 = deactivated (or not a timer). */
export function psmSeconds(b: string, timer3: boolean): number {
  if (b.length != 8 || /[^01]/.test(b)) return -1;
  const unit = parseInt(b.substr(0, 3), 2);
  if (unit == 7) return -1;
  return (timer3 ? T3[unit] : T2[unit] || 60) * parseInt(b.substr(3), 2);
}

/** The granted [Active-Time, Periodic-TAU] in seconds from a "+CEREG: 4,…" read line; null:
 *  not a mode-4 line (the modem does not report it); [-1, -1]: none granted. */
export function psmGrant(line: string): number[] | null {
  const f = line.substr(line.indexOf(':') + 1).split(',');
  if (parseInt(f[0], 10) != 4) return null;
  const q = function (i: number) {
    return (f[i] || '').replace(/"/g, '').trim();
  };
  return [psmSeconds(q(7), false), psmSeconds(q(8), true)];
}

let granted = false;

/** After each attach: PSM and eDRX asked for, and what the network granted logged. */
export function psmRequest(at: At, uploadEveryS: number, done?: () => void) {
  const tau = psmTimer(uploadEveryS * 2, true); // no periodic TAU between two uploads, even one late
  const act = psmTimer(ACTIVE_S, false);
  let reported = 0;
  granted = false;
  script(
    at,
    [
      'AT+CPSMS=1,,,"' + tau + '","' + act + '"',
      {
        at: 'AT+CEDRXS=1,4,"' + EDRX + '"',
        mayFail: 1,
        cb: function (err) {
          if (err) log('edrx: not supported by the modem (AT+CEDRXS refused)');
          else
            at.send({
              at: 'AT+CEDRXRDP',
              mayFail: 1,
              cb: function (e, lines) {
                log('edrx: ' + (e ? 'no answer to AT+CEDRXRDP' : answerLine(lines, '+CEDRXRDP:') || 'nothing granted'));
              },
            });
        },
      },
      {
        at: 'AT+CEREG=4',
        mayFail: 1,
        cb: function (err) {
          reported = err ? 0 : 1;
        },
      },
      {
        at: 'AT+CEREG?',
        mayFail: 1,
        cb: function (err, lines) {
          const g = err || !reported ? null : psmGrant(answerLine(lines, '+CEREG:'));
          granted = !!g && g[0] >= 0;
          if (!g) log('psm: requested TAU ' + psmSeconds(tau, true) + ' s, active ' + psmSeconds(act, false) + ' s; the modem does not say what was granted');
          else log(granted ? 'psm: granted TAU ' + g[1] + ' s, active ' + g[0] + ' s' : 'psm: not granted by the network');
        },
      },
      { at: 'AT+CEREG=1', mayFail: 1 },
    ],
    function (err) {
      if (err) log('psm: ' + err);
      if (done) done();
    },
  );
}

/** For the duty cycle, before the ESP32 sleeps: true = leave the modem to its PSM. */
export function psmEnter(done: (granted: boolean) => void) {
  done(granted);
}

/** For the duty cycle, at an upload: the modem out of PSM by a PWRKEY pulse, then AT answered. */
export function psmWake(board: Board, at: At, done: (ok: boolean) => void) {
  const pk = board.pwrkey;
  const on = pk.inverted ? 1 : 0;
  runPinSteps(
    [
      [pk.pin, on as 0 | 1, pk.onPulseMs],
      [pk.pin, (1 - on) as 0 | 1, 0],
    ],
    function () {
      waitForAt(at, 5000, done);
    },
  );
}
