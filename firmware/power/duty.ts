// Duty cycle (power.mode "duty-cycle"): every boot is one wake.
//   wake: <n> (<cause>)        the battery first: the low-battery rule in force decides the rest
//   one reading, into the flash queue (the modem is off: no signal figure)
//   upload when due            the first boot, a failed upload before, or uploadEverySeconds since
//                              the last one (after failures in a row: longer and longer since the
//                              last attempt): the supervisor brings the link up as always, the
//                              queue drains, the clock is compared with the network's, the modem
//                              goes off (modem-off.ts): "upload: done, <k> sent"; or, when the
//                              budget runs out, "upload: failed, <k> kept (<why>)": the readings
//                              stay queued for the next wake
//   sleep: <s> s (<why>)       ESP32.deepSleep until the next reading is due
// Below power.stopV nothing but the reading: no modem, sleep stopSleepS. Below power.slowV the
// interval is slowFactor times longer. Both show in the readings ("low": 1 or 2).
import { board, config } from '../target';
import type { At } from '../at/engine';
import { log, uptime } from '../log';
import { openCounter } from '../store/counter';
import { batteryVolts } from '../sensors/battery';
import { loadState, saveState, DutyState } from './state';
import { clockInit, clockSync, sleepUs } from './clock';
import { modemOff } from './modem-off';
import { psmEnter } from '../modem/psm';
import { startTelemetry, takeReading, waiting, taken, lastN } from '../telemetry/telemetry';
import { startSupervisor, stopSupervisor, modemAnswers, state, ONLINE } from '../supervisor/supervisor';
import { diagThen } from '../remote/commands';
import { mqttDisconnect } from '../modem/driver';
import { prepareTls } from '../tls/broker-tls';

// never sleep less than this (the wake itself costs a boot)
const FLOOR_S = 5;
// An upload gets as long as the slowest honest attempt (supervisor.ts STUCK_S: two power-ups,
// registration, CIICR 85 s, NTP 65 s, CONNECT 70 s): 2 × bootMax + registerTimeoutS + 220 s, and
// 5 s per queued reading to publish. Past it the link is not coming this time.
const ATTEMPT_S = 220;
const PER_READING_S = 5;

let st: DutyState;
let at: At;
let low = 0;
let bv: number | null = null;
let uploading = false;
let done = false;
let queued = 0;
let takenBefore = 0;
let budget = 0;
let stored = 0;
let cold = false;
// GNSS: the position needs the modem on, so an upload's wake takes one more reading once online
let fix = 0; // 1 being taken, 2 stored

/** Fields the duty cycle adds to a reading: battery volts and the low-battery rule. */
export function dutyFields(): { bv: number | null; low: number } {
  return { bv: bv, low: low };
}

function interval(): number {
  return (st.i || config.intervalS) * (low == 1 ? config.power!.slowFactor : 1);
}

/** remote/commands.ts "interval": kept for the next wakes. */
export function dutyInterval(s: number) {
  st.i = s;
  saveState(st);
}

function sleep(s: number, why: string) {
  saveState(st);
  s = Math.max(FLOOR_S, Math.round(s));
  log('sleep: ' + s + ' s (' + why + ')');
  ESP32.deepSleep(sleepUs(s));
}

export function startDuty(modemAt: At, i2c: EspruinoI2C, why: string) {
  at = modemAt;
  const p = config.power!;
  st = loadState();
  clockInit(st);
  const cause = ESP32.getWakeupCause();
  cold = cause != 4;
  log('wake: ' + openCounter('cpw').next() + ' (' + (cold ? why : 'timer') + ')');
  bv = batteryVolts(i2c);
  low = bv === null || !p.stopV ? 0 : bv < p.stopV ? 2 : bv < p.slowV ? 1 : 0;
  if (low != st.l) {
    log(
      'battery: ' +
        bv +
        ' V, ' +
        (low == 2
          ? 'below ' + p.stopV + ' V: the modem stays off, sleeping ' + p.stopSleepS + ' s'
          : low
            ? 'below ' + p.slowV + ' V: interval x ' + p.slowFactor
            : 'back to normal'),
    );
    st.l = low;
    saveState(st);
  }
  startTelemetry(at, i2c);
  takeReading();
}

/** telemetry.ts: a reading is in the queue; the wake's first goes on to upload or sleep. */
export function dutyStored() {
  if (__GNSS__ && fix == 1) fix = 2;
  if (stored++) return;
  const p = config.power!;
  if (low == 2) return sleep(p.stopSleepS - uptime(), 'battery below ' + p.stopV + ' V');
  // due: the first boot, a first failure (retried at once), or uploadEverySeconds since the last
  // upload; after more failures in a row, (failures - 1) × uploadEverySeconds (at most a day)
  // since the last attempt ended, so no battery goes on retrying at every wake without a network.
  // Within half an interval: wakes do not land to the second.
  const since = getTime() - uptime() - (st.f > 1 ? st.a : st.u);
  const due = st.f > 1 ? Math.min(p.uploadEveryS * (st.f - 1), 86400) : p.uploadEveryS;
  if (st.u + st.a && st.f != 1 && since >= 0 && since + interval() / 2 < due) return sleep(interval() - uptime(), 'next reading');
  upload();
}

function upload() {
  uploading = true;
  queued = waiting();
  takenBefore = taken;
  budget = (2 * board.bootMaxMs) / 1000 + config.registerTimeoutS + ATTEMPT_S + PER_READING_S * queued;
  log('upload: start (' + queued + ' waiting)');
  setTimeout(function () {
    finish('not done within ' + budget + ' s, link ' + (state == ONLINE ? 'up' : 'down'));
  }, budget * 1000);
  startSupervisor(at);
  // cellpub's TLS: the key pair for this upload's handshake, made in slices while the modem attaches
  if (__TLS__) prepareTls();
}

/** telemetry.ts linkUp: online; compare the clock, then drain. */
export function dutyOnline() {
  clockSync(lastN);
  if (__GNSS__ && !fix) {
    fix = 1;
    takeReading();
  }
}

/** telemetry.ts drain: nothing left to send. After a cold boot the diagnostics message (as at
 *  every connect when always on) goes out first; a timer wake saves the air time. */
export function dutyDrained() {
  if (!uploading || (__GNSS__ && fix == 1)) return;
  uploading = false;
  if (cold)
    diagThen(function () {
      finish(null);
    });
  else finish(null);
}

function finish(why: string | null) {
  if (done) return;
  done = true;
  const online = state == ONLINE;
  stopSupervisor();
  const left = waiting();
  if (why) log('upload: failed, ' + left + ' kept (' + why + ')');
  else log('upload: done, ' + (queued + taken - takenBefore - left) + ' sent');
  st.f = why ? st.f + 1 : 0;
  if (why) st.a = getTime();
  else st.u = getTime() - uptime(); // this wake's start, on the network's time
  saveState(st);
  const off = function () {
    const next = function () {
      sleep(interval() - uptime(), why ? 'upload failed' : 'upload done');
    };
    // PSM granted: the modem stays registered and asleep (µA) until the next upload's power-up
    // pulse wakes it (modem/psm.ts); not granted or not reported: it goes off, as without PSM
    if (__PSM__ && online)
      return psmEnter(function (granted) {
        if (!granted) return modemOff(at, modemAnswers(), next);
        log('psm: the modem stays registered, in PSM until the next upload');
        next();
      });
    modemOff(at, modemAnswers(), next);
  };
  // a clean MQTT disconnect first: what was published goes out before it, and the broker keeps
  // the session without publishing the will (the station is not lost, it sleeps)
  if (online) mqttDisconnect(at, off);
  else off();
}
