// SIM800: from "answers AT" (power.ts polls it through autobaud) to "GPRS up, socket stack ready".
// Commands and answers: SIM800 AT manual ch. 8 and docs/modem-facts.md §B (real logs where the manual
// differs: CIFSR answers its IP without OK, links print "0, CLOSED" with a space).
//
//   AT+IPR? / AT+CLTS?   a factory SIM800 is in autobaud (prints no boot banner) and gives no
//                        network time; both are fixed once with AT+IPR=115200, AT+CLTS=1, AT&W
//   CIPSHUT … CIFSR      multi-link, quick-send, manual-receive TCP (what socket.ts
//                        expects); quick send as TinyGSM's TinyGsmClientSIM800.h: "Put in
//                        "quick send" mode (thus no extra "Send OK")": CIPSEND's answer does not
//                        wait for the server's TCP ACK, a GPRS round trip that can outlast 10 s
// Timeouts: the SIM800 AT manual V1.09's "Max Response Time" per command, next to each; where the
// manual gives "-" (or no figure was found: [unverified]) the engine's default (9 s).
//   CCLK?                network time (NITZ) when the network sends it; else readings carry
//                        uptime only, and *PSUTTZ later sets the clock

import { At, Cmd, answerLine } from '../../at/engine';
import type { DeviceConfig } from '../../config';
import { cmd, tolerant } from '../../at/step';
import { series, Next, Step } from '../../series';
import { log, timeKnown } from '../../log';
import { waitSim, waitRegistered } from '../registration';
import { readModemClock } from '../cclk';

const BAUD = 115200;

/** Fix the baud rate and turn network time on, once: AT&W keeps both across power cycles. */
function fixProfile(at: At, next: Next) {
  let ipr = -1;
  let clts = -1;
  const num = function (l: string[], prefix: string) {
    const line = answerLine(l, prefix);
    return line ? parseInt(line.substr(prefix.length), 10) : -1;
  };
  // IPR, CLTS, &W: local settings [unverified: no figure found]: the engine's default (9 s)
  at.send({ at: 'AT+IPR?', cb: function (e, l) { if (!e) ipr = num(l, '+IPR:'); } });
  at.send({
    at: 'AT+CLTS?',
    cb: function (e, l) {
      if (!e) clts = num(l, '+CLTS:');
      if (ipr == BAUD && clts == 1) return next();
      log('modem: saving baud ' + BAUD + ' and network time in its profile (was ' + ipr + ', ' + clts + ')');
      series([cmd(at, { at: 'AT+IPR=' + BAUD }), cmd(at, { at: 'AT+CLTS=1' }), cmd(at, { at: 'AT&W' })], next);
    },
  });
}

export function readClock(at: At, next?: Next) {
  readModemClock(at, function (ok) {
    if (!ok) log('time: the network has not given the time yet; readings carry uptime only until it does');
    if (next) next();
  });
}

/** CIFSR's answer is the IP address alone, with no OK after it. */
function isIp(line: string): number {
  const p = line.split('.');
  return p.length == 4 && parseInt(p[3], 10) >= 0 ? 1 : 0;
}

/** AT+CIPSHUT ends with "SHUT OK", not OK; it can take long (links and PDP context dropped). */
function cipShut(): Cmd {
  // manual §8.2.7 Max Response Time: 65 seconds (docs/modem-facts.md §B)
  return { at: 'AT+CIPSHUT', ms: 65000, fin: function (l) { return l == 'SHUT OK' ? 1 : 0; } };
}

/** Recovery: every link and the PDP context dropped; netUp brings them up again. */
export function dataReset(at: At, done: () => void) {
  tolerant(at, cipShut())(done);
}

/** diagnostics.ts: identity, and the serving cell (none on the SIM800) */
export const identQueries = ['ATI', 'AT+CGMR', 'AT+CCID'];
export const cellQuery = '';

export function netUp(at: At, cfg: DeviceConfig, done: (err: string | null) => void) {
  // boot, network-time and state URCs we know and need not act on (docs/modem-facts.md §B.1)
  const quiet = function () {};
  const known = ['+CFUN:', 'Call Ready', 'SMS Ready', 'DST:', '+CTZV:', '*PSNWID:', '+CIEV:'];
  for (let i = 0; i < known.length; i++) at.on(known[i], quiet);
  // NITZ arrives whenever the network sends it, usually a second after registration, while the
  // steps below still run: the clock step's own read covers that; later ones are read here
  let clockStepDone = false;
  at.on('*PSUTTZ:', function () {
    if (clockStepDone && !timeKnown()) readClock(at);
  });
  const steps: Step[] = [
    cmd(at, { at: 'ATE0' }), // §2.2.x Max Response Time "-" (V.25ter settings)
    function (next: Next) {
      fixProfile(at, next);
    },
    cmd(at, { at: 'AT+CMEE=1' }), // [unverified: no figure found]: the engine's default (9 s)
    function (next: Next) {
      waitSim(at, cfg.simPin, next);
    },
    cmd(at, { at: 'AT+CREG=1' }), // [unverified: no figure found]: the engine's default (9 s)
    function (next: Next) {
      waitRegistered(at, cfg.registerTimeoutS, false, next);
    },
    // a fresh stack: links and the PDP context from before an ESP32 reboot are dropped
    cmd(at, cipShut()),
    // CIPMUX, CIPQSEND, CIPRXGET, CSTT: only in IP INITIAL, local [unverified: no figure found]: the engine's default (9 s)
    cmd(at, { at: 'AT+CIPMUX=1' }),
    cmd(at, { at: 'AT+CIPQSEND=1' }),
    cmd(at, { at: 'AT+CIPRXGET=1' }),
    cmd(at, { at: 'AT+CSTT="' + cfg.apn + '"' }),
    function (next: Next) {
      log('net: bringing up GPRS (APN "' + cfg.apn + '")');
      next();
    },
    cmd(at, { at: 'AT+CIICR', ms: 85000 }), // §8.2.10 Max Response Time: 85 seconds (docs/modem-facts.md §B)
    // §8.2.11 Max Response Time "-"
    cmd(at, { at: 'AT+CIFSR', fin: isIp, cb: function (err, lines) { if (!err) log('net: IP ' + lines[lines.length - 1]); } }),
    function (next: Next) {
      clockStepDone = true;
      if (timeKnown()) return next();
      readClock(at, next);
    },
  ];
  series(steps, function (err) {
    if (err && err.indexOf('AT+CIICR') == 0) err += ': check the APN (' + cfg.apn + ') and that the SIM has a data plan';
    done(err);
  });
}
