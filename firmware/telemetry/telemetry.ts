// Readings: one every interval from boot on, link or not. Each goes to flash first
// (store/flash-queue.ts) and leaves only once the broker has it (QoS 1: the PUBACK); a failure
// keeps it for the next try. A reading flash would not take (Storage full or failing) is kept in
// RAM, up to SPILL_MAX, and sent first.

import { config } from '../target';
import type { At } from '../at/engine';
import { log, uptime } from '../log';
import { mqttPublish } from '../modem/driver';
import { readSignal } from '../modem/signal';
import { openFlashQueue, FlashQueue } from '../store/flash-queue';
import { openCounter, Counter } from '../store/counter';
import { ip5306Battery } from '../power-chip/ip5306';
import { readingJson } from './reading';
import { sensorsInit, readSensors } from './sensors';
import { state, ONLINE, RENEWING, modemAnswers, trouble, renew, busy } from '../supervisor/supervisor';
import { RECONNECT } from '../supervisor/ladder';
import { dutyFields, dutyInterval, dutyOnline, dutyDrained, dutyStored } from '../power/duty';
import { readingTs, fixReading } from '../power/clock';
import { gnssReading } from '../modem/a76xx/gnss';

const MIN_INTERVAL_S = 10;
const MAX_INTERVAL_S = 86400;
const SPILL_MAX = 20;

let at: At;
let i2c: EspruinoI2C;
let queue: FlashQueue;
let counter: Counter;
const spill: string[] = [];
/** readings taken since boot */
export let taken = 0;
/** the number of the last reading taken (duty cycle: the clock's correction windows) */
export let lastN = 0;
/** a publish of a reading is under way */
export let sending = false;
let interval = 0;
let readTimer = 0;

export function startTelemetry(modemAt: At, bus: EspruinoI2C) {
  at = modemAt;
  i2c = bus;
  interval = config.intervalS; // with a config update's (main.ts)
  sensorsInit(bus);
  queue = openFlashQueue('cpq', config.queueMax);
  if (queue.size()) log('queue: ' + queue.size() + ' reading(s) kept from before');
  counter = openCounter('cpn');
  // duty cycle: one reading per wake, taken by power/duty.ts
  if (!__DUTY__) setReadInterval(interval);
}

/** Readings waiting to be sent, and how many the full queue has had to drop since boot. */
export function waiting(): number {
  return queue.size() + spill.length;
}
export function dropped(): number {
  return queue.dropped();
}

function keep(json: string) {
  const before = queue.dropped();
  try {
    queue.push(json);
  } catch (e) {
    log('queue: flash refused a reading (' + (e as any).message + '); keeping it in RAM');
    if (spill.length >= SPILL_MAX) spill.shift();
    spill.push(json);
    return;
  }
  if (queue.dropped() > before) log('queue: full, dropped the oldest reading (' + queue.dropped() + ' so far)');
}

export function takeReading() {
  // GNSS: the fix first (while the modem answers), then takeReading(more) takes the reading and
  // more(json) adds the position (modem/a76xx/gnss.ts). arguments[0]: no parameter in other bundles.
  const gnss: ((json: string) => string) | undefined = __GNSS__ ? arguments[0] : undefined;
  if (__GNSS__ && !gnss) return gnssReading(at, config.gnss!, modemAnswers(), takeReading);
  taken++;
  readSensors(function (fields, errors) {
    const store = function (dbm: number | null) {
      const json = readingJson(
        __DUTY__ ? (lastN = counter.next()) : counter.next(),
        fields,
        errors,
        dbm,
        uptime(),
        __IP5306__ ? ip5306Battery(i2c) : undefined,
        __DUTY__ ? dutyFields() : undefined,
        __DUTY__ ? readingTs() : undefined,
      );
      keep(__GNSS__ ? gnss!(json) : json);
      drain();
      if (__DUTY__) dutyStored();
    };
    // no signal figure while the modem is off or starting (its AT+CSQ would only time out)
    if (modemAnswers()) readSignal(at, store);
    else store(null);
  });
}

/** Sets the reading interval; an error text when s is not allowed. */
export function setReadInterval(s: any): string | null {
  if (!(s === Math.floor(s) && s >= MIN_INTERVAL_S && s <= MAX_INTERVAL_S)) {
    return 'interval must be a whole number of seconds from ' + MIN_INTERVAL_S + ' to ' + MAX_INTERVAL_S;
  }
  interval = s;
  if (__DUTY__) {
    log('interval: ' + s + ' s');
    dutyInterval(s); // from the next wake on
    return null;
  }
  if (readTimer) clearInterval(readTimer);
  readTimer = setInterval(takeReading, s * 1000);
  log('interval: ' + s + ' s');
  return null;
}

/** The link is up: the first reading of a boot goes out at once and the interval counts from it
 *  (if the link took longer than an interval, readings have been taken from boot on anyway). */
export function linkUp() {
  if (__DUTY__) dutyOnline();
  if (taken) return drain();
  setReadInterval(interval);
  takeReading();
}

/** Sends the oldest reading, then the next, while the session is online. */
export function drain() {
  if (state != ONLINE || sending) return;
  if (!waiting()) {
    if (__DUTY__) dutyDrained();
    return;
  }
  sending = true;
  busy();
  const fromRam = spill.length > 0;
  const json = fromRam ? spill[0] : queue.peek()!;
  mqttPublish(at, config.topics.telemetry, __DUTY__ ? fixReading(json) : json, config.qos, false, function (err) {
    sending = false;
    busy();
    if (err) return trouble('publish failed, ' + waiting() + ' reading(s) kept: ' + err, RECONNECT);
    if (fromRam) spill.shift();
    else if (queue.peek() === json) queue.ack(); // unless it was dropped for space meanwhile
    log('publish: ok (' + json.length + ' bytes, ' + waiting() + ' waiting)');
    if (__AZURE__ && state == RENEWING) renew();
    else drain();
  });
}
