// The config's power block (buildlib/config.mjs): defaults, what the firmware gets, and a clear
// message for each value that cannot work.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { resolveConfig, ConfigError, autoModem } from '../buildlib/config.mjs';
import { loadBoard } from '../build.mjs';

describe('config-power.test.mjs', () => {
  const plain = { broker: { preset: 'plain', host: 'broker.example.org' } };
  const boards = {};
  before(async () => {
    for (const id of ['t-a7670x', 't-call-sim800l', 't-sim7670g-s3', 't-call-a7670-v1_0']) boards[id] = await loadBoard(id);
  });
  const resolve = (raw, board = 't-a7670x') => resolveConfig({ ...plain, ...raw }, { board: boards[board] });
  function problems(raw, board) {
    try {
      resolve(raw, board);
    } catch (err) {
      assert.ok(err instanceof ConfigError, err.stack);
      return err.problems;
    }
    assert.fail('the config was accepted');
  }

  it('no power block, or always-on with the modem awake: nothing new in the firmware config', () => {
    for (const raw of [{}, { power: { mode: 'always-on', modem: 'awake' } }]) {
      const c = resolve(raw);
      assert.equal(c.power, undefined);
      assert.equal(c.modemSleep, undefined);
    }
  });

  it('"auto" is the energy model\'s choice (buildlib/energy.mjs) within what the board can do', () => {
    // always-on, a reading a minute: DTR sleep between publishes costs less than an idle modem
    assert.equal(resolve({ power: { mode: 'always-on' } }).modemSleep, 'dtr-sleep');
    const [m, why] = autoModem('always-on', boards['t-a7670x'], { intervalSeconds: 60 });
    assert.equal(m, 'dtr-sleep');
    assert.match(why, /awake [\d.]+ mAh\/day, dtr-sleep [\d.]+ mAh\/day → dtr-sleep/);
    // readings every 10 s: the modem would not fall asleep (10-20 s to enter): awake
    assert.equal(autoModem('always-on', boards['t-a7670x'], { intervalSeconds: 10 })[0], 'awake');
    // duty cycle: the model prefers PSM on the A76xx, but no board can keep its modem's control
    // pins through an Espruino deep sleep: off
    const [d, dwhy] = autoModem('duty-cycle', boards['t-sim7670g-s3'], { intervalSeconds: 900, power: { uploadEverySeconds: 3600 } });
    assert.equal(d, 'off');
    assert.match(dwhy, /→ psm; but .* → off/);
    assert.equal(autoModem('duty-cycle', boards['t-call-sim800l'], { intervalSeconds: 900, power: { uploadEverySeconds: 3600 } })[0], 'off');
  });

  it('duty-cycle with defaults: upload hourly, modem off ("auto"), the low-battery rules 3.5 V × 4 / 3.3 V 6 h', () => {
    const c = resolve({ power: { mode: 'duty-cycle' } });
    assert.deepEqual(c.power, { uploadEveryS: 3600, modem: 'off', slowV: 3.5, slowFactor: 4, stopV: 3.3, stopSleepS: 21600 });
  });

  it('always-on with DTR sleep gives modemSleep; non-integer volts are taken (num)', () => {
    assert.equal(resolve({ power: { modem: 'dtr-sleep' } }).modemSleep, 'dtr-sleep');
    const c = resolve({ power: { mode: 'duty-cycle', uploadEverySeconds: 900, lowBattery: { slowBelowVolts: 3.62, stopBelowVolts: 3.41 } } });
    assert.deepEqual(c.power, { uploadEveryS: 900, modem: 'off', slowV: 3.62, slowFactor: 4, stopV: 3.41, stopSleepS: 21600 });
    // PSM when asked for, on a board without a battery divider (no low-battery rules: volts 0)
    const p = resolve({ power: { mode: 'duty-cycle', modem: 'psm', uploadEverySeconds: 900 } }, 't-call-a7670-v1_0');
    assert.deepEqual(p.power, { uploadEveryS: 900, modem: 'psm', slowV: 0, slowFactor: 4, stopV: 0, stopSleepS: 21600 });
  });

  it('a modem state that does not go with the mode is refused, naming the mode it is for', () => {
    let p = problems({ power: { mode: 'duty-cycle', modem: 'dtr-sleep' } });
    assert.ok(
      p.some((m) => /^power\.modem: "dtr-sleep" is not for power\.mode "duty-cycle"; allowed: "auto", "off", "psm" \("dtr-sleep" is for "always-on"\)/.test(m)),
      p.join('\n'),
    );
    p = problems({ power: { modem: 'psm' } });
    assert.ok(
      p.some((m) => /^power\.modem: "psm" is not for power\.mode "always-on"; allowed: "auto", "awake", "dtr-sleep"/.test(m)),
      p.join('\n'),
    );
    p = problems({ power: { modem: 'sleepy' } });
    assert.ok(
      p.some((m) => /^power\.modem: must be one of "auto", "awake", "dtr-sleep", "off", "psm", got "sleepy"/.test(m)),
      p.join('\n'),
    );
  });

  it('uploads less often than readings, and stop below slow: else a message that says what to change', () => {
    let p = problems({ intervalSeconds: 600, power: { mode: 'duty-cycle', uploadEverySeconds: 300 } });
    assert.ok(
      p.some((m) => /^power\.uploadEverySeconds: 300 is shorter than intervalSeconds \(600\).*at least 600/.test(m)),
      p.join('\n'),
    );
    p = problems({ power: { mode: 'duty-cycle', lowBattery: { slowBelowVolts: 3.3, stopBelowVolts: 3.4 } } });
    assert.ok(
      p.some((m) => /^power\.lowBattery\.stopBelowVolts: 3\.4 V must be below slowBelowVolts \(3\.3 V\)/.test(m)),
      p.join('\n'),
    );
    p = problems({ power: { mode: 'duty-cycle', lowBattery: { slowBelowVolts: '3.5' } } });
    assert.ok(
      p.some((m) => /^power\.lowBattery\.slowBelowVolts: must be a number from 2\.5 to 4\.5.*got "3\.5"/.test(m)),
      p.join('\n'),
    );
    p = problems({ power: { mode: 'duty-cycle', uploadEverySeconds: 30 } });
    assert.ok(
      p.some((m) => /^power\.uploadEverySeconds: must be a whole number from 60 to 86400/.test(m)),
      p.join('\n'),
    );
    p = problems({ power: { uploadEverySeconds: 600 } });
    assert.ok(
      p.some((m) => /^power\.uploadEverySeconds: only used with power\.mode "duty-cycle"/.test(m)),
      p.join('\n'),
    );
  });

  it('the T-SIM7670G-S3 cannot measure its battery: explicit low-battery rules are refused, default ones left out', () => {
    const p = problems({ power: { mode: 'duty-cycle', lowBattery: { slowBelowVolts: 3.6 } } }, 't-sim7670g-s3');
    assert.ok(
      p.some((m) => /^power\.lowBattery: t-sim7670g-s3 cannot measure its battery \(Espruino's ESP32-S3 build has no ADC/.test(m)),
      p.join('\n'),
    );
    const c = resolve({ power: { mode: 'duty-cycle' } }, 't-sim7670g-s3');
    assert.equal(c.power.slowV, 0);
    assert.equal(c.power.stopV, 0);
    // the T-Call has no battery ADC but its IP5306's level: the rules stay
    assert.equal(resolve({ power: { mode: 'duty-cycle' } }, 't-call-sim800l').power.stopV, 3.3);
  });
});
