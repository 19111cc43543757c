// Config-only updates: the command that changes a running station's settings without a new bundle
// (firmware/remote/config-update.ts). The user edits the same config file they build with; this
// checks it exactly as the build does (buildlib/config.mjs resolveConfig: the same errors, naming
// the user's fields) and takes from it what a station can change in place, in the firmware's
// names (firmware/config.ts):
//   intervalSeconds                      → intervalS        (applied at once)
//   topics.telemetry / command / status  → topics.*         (after the station's restart; not on Azure)
//   power.uploadEverySeconds             → power.uploadEveryS   (duty-cycle bundles)
//   power.lowBattery.slowBelowVolts, slowFactor, stopBelowVolts, stopSleepSeconds
//                                        → power.slowV, slowFactor, stopV, stopSleepS
//                                          (duty-cycle, on boards that can measure their battery)
// Everything else in the file (broker, sensors, power.mode, …) needs a new bundle: npm run flash,
// or an over-the-air update of the bundle.
//
//   import { configUpdateMessage } from './host/tools/config-update.mjs';
//   const payload = configUpdateMessage(raw, { board: await loadBoard('t-a7670x'), baseDir });
//   // publish payload on the station's command topic (QoS 1); the reply comes on its status topic:
//   // {"ack":"config","reboot":false} or {"error":"intervalSeconds: must be …"}
import { resolveConfig } from '../../buildlib/config.mjs';

/**
 * @param {object} raw the user's config (parsed JSON, their field names)
 * @param {object} opts
 * @param {object} opts.board the board object (build.mjs `await loadBoard(id)`): decides, like the
 *   build, whether the board can measure its battery (no low-battery rules otherwise)
 * @param {string} [opts.baseDir] where the config's relative paths (broker.ca) are, as for the build
 * @param {object} [opts.env] secrets from the environment, as for the build
 * @returns {string} the command payload, {"cmd":"config","set":{…}}
 * @throws {ConfigError} the build's own message when the config would not build
 */
export function configUpdateMessage(raw, { board, baseDir, env } = {}) {
  if (!board || typeof board !== 'object') throw new TypeError('configUpdateMessage: opts.board must be the board object (build.mjs loadBoard(id))');
  const cfg = resolveConfig(raw, { board, baseDir, env });
  const set = { intervalS: cfg.intervalS };
  if (!cfg.broker.azure) set.topics = { ...cfg.topics };
  const p = cfg.power;
  if (p) {
    set.power = { uploadEveryS: p.uploadEveryS };
    // stopV 0: the board cannot measure its battery; the station has no rules to change
    if (p.stopV) Object.assign(set.power, { slowV: p.slowV, slowFactor: p.slowFactor, stopV: p.stopV, stopSleepS: p.stopSleepS });
  }
  return JSON.stringify({ cmd: 'config', set });
}

/** The command that erases a station's config updates (it restarts with its bundle's config). */
export const CONFIG_RESET = '{"cmd":"config","reset":true}';
