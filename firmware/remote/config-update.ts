// Config-only updates (remote/commands.ts {"cmd":"config"}): the settings a station may change
// without a new bundle: the reading interval, the topics (not on Azure, which fixes them), and on
// duty-cycle bundles the upload period and the low-battery rules. What was set lives in the
// Storage file cp.cfg, in the config's device names (firmware/config.ts), and is merged onto
// `config` at boot (applyOverlay, main.ts) before anything reads it. A cp.cfg that does not parse
// or holds a value the checks refuse is logged and ignored: the bundle's own config then runs.
// The host makes the command from the user's config file (host/tools/config-update.mjs).

import { config } from '../target';
import { log } from '../log';
import { storage } from '../platform';
import { setReadInterval } from '../telemetry/telemetry';
import { dutyInterval } from '../power/duty';

const FILE = 'cp.cfg';

/** What was set by command so far (the content of cp.cfg). */
let overlay: any = {};

/** The settings a config update may change on this bundle: 1 = a value, an object = a group. */
function allowed(): any {
  const a: any = { intervalS: 1 };
  if (!__AZURE__) a.topics = { telemetry: 1, command: 1, status: 1 };
  if (__DUTY__) {
    a.power = { uploadEveryS: 1 };
    // 0 V: the board cannot measure its battery, so it has no low-battery rules to change
    if (config.power!.stopV) a.power.slowV = a.power.slowFactor = a.power.stopV = a.power.stopSleepS = 1;
  }
  return a;
}

/** Copies set's values into `into` where allowed() has them; an error text for anything else. */
function merge(into: any, set: any, a: any, path: string): string | null {
  for (const k in set) {
    if (!a[k]) return path + k + ': not changeable without a new bundle';
    if (a[k] == 1) into[k] = set[k];
    else {
      if (!set[k] || typeof set[k] != 'object') return path + k + ': must be an object';
      const err = merge(into[k] || (into[k] = {}), set[k], a[k], path + k + '.');
      if (err) return err;
    }
  }
  return null;
}

/** The changeable part of the config in force (a copy). */
function current(): any {
  return JSON.parse(JSON.stringify({ intervalS: config.intervalS, topics: config.topics, power: config.power }));
}

/** Checks a whole candidate config; errors name the user's config fields (buildlib/config.mjs). */
function check(c: any): string | null {
  // [device name, the user's name, min, max, whole numbers only]
  const rules: any[][] = [['intervalS', 'intervalSeconds', 10, 86400, 1]];
  const p = c.power;
  if (__DUTY__) {
    rules.push(['uploadEveryS', 'power.uploadEverySeconds', 60, 86400, 1]);
    if (p.stopV) {
      const lb = 'power.lowBattery.';
      rules.push(
        ['slowV', lb + 'slowBelowVolts', 2.5, 4.5, 0],
        ['slowFactor', lb + 'slowFactor', 1, 100, 1],
        ['stopV', lb + 'stopBelowVolts', 2.5, 4.5, 0],
        ['stopSleepS', lb + 'stopSleepSeconds', 600, 604800, 1],
      );
    }
  }
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    const v = i ? p[r[0]] : c.intervalS;
    if (!(typeof v == 'number' && v >= r[2] && v <= r[3] && (!r[4] || v == Math.floor(v))))
      return r[1] + ': must be a ' + (r[4] ? 'whole ' : '') + 'number from ' + r[2] + ' to ' + r[3] + ', got ' + JSON.stringify(v);
  }
  if (!__AZURE__)
    for (const k in c.topics) {
      const t = c.topics[k];
      if (!(typeof t == 'string' && t.length <= 1024 && /^[ -~]+$/.test(t) && !/[+#]/.test(t)))
        return 'topics.' + k + ': must be 1 to 1024 printable ASCII characters, no + or #';
    }
  if (__DUTY__) {
    if (p.uploadEveryS < c.intervalS) return 'power.uploadEverySeconds: must be at least intervalSeconds (' + c.intervalS + ')';
    if (p.stopV >= p.slowV) return 'power.lowBattery.stopBelowVolts: must be below slowBelowVolts (' + p.slowV + ')';
  }
  return null;
}

/** Boot, before anything reads config: cp.cfg merged onto it, if it parses and passes the checks. */
export function applyOverlay() {
  const s = storage().read(FILE);
  if (!s) return;
  let ov: any = null;
  try {
    ov = JSON.parse(s);
  } catch (e) {}
  const c = current();
  const err = !ov || typeof ov != 'object' ? 'not JSON' : merge(c, ov, allowed(), '') || check(c);
  if (err) return log('config: ' + FILE + ' ignored (' + err + ')');
  overlay = ov;
  config.intervalS = c.intervalS;
  config.topics = c.topics;
  if (__DUTY__) config.power = c.power;
  log('config: ' + FILE + ' applied');
}

/** Writes the overlay with set merged in (set already checked); an error text if Storage would not. */
function save(set: any): string | null {
  const ov = JSON.parse(JSON.stringify(overlay));
  merge(ov, set, allowed(), '');
  const j = JSON.stringify(ov);
  try {
    if (j != storage().read(FILE)) storage().write(FILE, j);
  } catch (e) {
    return 'config: ' + FILE + ' not saved: ' + (e as any).message;
  }
  overlay = ov;
  return null;
}

/** {"cmd":"interval","s":…} and Azure's interval (twin, method): applied now and kept in cp.cfg. */
export function keepInterval(s: any): string | null {
  return setReadInterval(s) || save({ intervalS: s });
}

/** {"cmd":"config","set":{…}} / {"cmd":"config","reset":true}: the reply; reply.reboot says the
 *  station must restart to apply it (topics: the subscription is made at connect). A duty-cycle
 *  station never restarts for it: every wake is a boot. */
export function configCommand(cmd: any): { [k: string]: any } {
  if (cmd.reset) {
    storage().erase(FILE);
    overlay = {};
    if (__DUTY__) dutyInterval(0);
    log('config: ' + FILE + ' erased');
    return { ack: 'config', reset: true, reboot: !__DUTY__ };
  }
  const set = cmd.set;
  if (!set || typeof set != 'object') return { error: 'config: give "set":{...} or "reset":true' };
  const c = current();
  const err = merge(c, set, allowed(), '') || check(c) || save(set);
  if (err) return { error: err };
  let reboot = false;
  for (const k in set.topics || {}) if (set.topics[k] != (config.topics as any)[k]) reboot = !__DUTY__;
  if (set.intervalS !== undefined) setReadInterval(c.intervalS);
  if (__DUTY__) config.power = c.power;
  log('config: updated' + (reboot ? ', topics at the restart' : ''));
  return { ack: 'config', reboot: reboot };
}
