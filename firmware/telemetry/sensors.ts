// Every sensor the config names, read one after another into the fields of one reading:
// BME280 t, p (hPa), h; DHT dht_t, dht_h; DS18B20 ds_t; the analog input under its configured name.
// A sensor that fails adds "<name>: <why>" to the errors instead. Each driver is behind its build
// flag, so a bundle carries only the drivers its config uses.

import { config } from '../target';
import { log } from '../log';
import { bme280Init, bme280Read, Bme280 } from './bme280';
import { dhtRead } from '../sensors/dht';
import { ds18b20Read } from '../sensors/ds18b20';
import { analogValue } from '../sensors/analog';

type Fields = { [k: string]: any };

let bme: Bme280 | null = null;
let bmeError = '';

export function round(v: number, places: number): number {
  const f = Math.pow(10, places);
  return Math.round(v * f) / f;
}

function bmeStep(f: Fields, e: string[], next: () => void) {
  if (!bme) {
    e.push('bme280: ' + bmeError);
    return next();
  }
  bme280Read(bme, function (err, r) {
    if (r) {
      f.t = round(r.t, 2);
      f.p = round(r.p / 100, 2); // hPa
      f.h = round(r.h, 2);
    } else e.push('bme280: ' + err!.message);
    next();
  });
}

function dhtStep(f: Fields, e: string[], next: () => void) {
  dhtRead(config.dht!.pin, config.dht!.type, function (err, v) {
    if (v) {
      f.dht_t = round(v[0], 1);
      f.dht_h = round(v[1], 1);
    } else e.push('dht: ' + err);
    next();
  });
}

function dsStep(f: Fields, e: string[], next: () => void) {
  ds18b20Read(config.ds18b20!.pin, function (err, t) {
    if (err) e.push('ds18b20: ' + err);
    else f.ds_t = round(t!, 2);
    next();
  });
}

function analogStep(f: Fields, e: string[], next: () => void) {
  const a = config.analog!;
  const v = analogValue(a.pin, a.scale, a.offset);
  if (typeof v === 'string') e.push(a.name + ': ' + v);
  else f[a.name] = round(v, 3);
  next();
}

/** Sets up the sensors the config names (the BME280 on the bus main.ts has set up). */
export function sensorsInit(i2c: EspruinoI2C): void {
  if (config.bme280) {
    try {
      bme = bme280Init(i2c, config.bme280.address);
    } catch (e) {
      bmeError = '' + ((e as any).message || e);
      log('sensor: ' + bmeError);
    }
  }
}

/** Reads every sensor in turn; done(fields, errors) once all have answered. */
export function readSensors(done: (fields: Fields, errors: string[]) => void): void {
  const f: Fields = {};
  const e: string[] = [];
  // a chain from the last sensor back to the first; the build drops the links it has no flag for
  const end = function () {
    done(f, e);
  };
  const a = __ANALOG__
    ? function () {
        analogStep(f, e, end);
      }
    : end;
  const d = __DS18B20__
    ? function () {
        dsStep(f, e, a);
      }
    : a;
  const h = __DHT__
    ? function () {
        dhtStep(f, e, d);
      }
    : d;
  if (config.bme280) bmeStep(f, e, h);
  else h();
}
