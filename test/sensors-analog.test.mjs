// The analog input (firmware/sensors/analog.ts), bundled as for the board, against a voltage on a
// pin of the virtual ESP32 (host/sim/sensors/analog.mjs), and Espruino's ADC limits: ADC1 pins
// only on the ESP32, no ADC at all on the ESP32-S3 (analogRead NaN).
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { createAnalog } from '../host/sim/sensors/analog.mjs';

describe('sensors-analog.test.mjs', () => {
  let code;
  before(async () => {
    code = (await bundleModule('firmware/sensors/analog.ts')).code;
  });
  function board(chip = 'ESP32') {
    const clock = createClock({ mode: 'virtual' });
    const device = createEspruino({ clock, chip });
    device.load(code, 'analog.js');
    return device;
  }

  it('value × scale + offset: 1.8 V of the 3.6 V range is 0.5, × 100 − 10 = 40', () => {
    const device = board();
    const sim = createAnalog({ device, pin: 34, volts: 1.8 });
    assert.equal(device.eval('analogValue(34, 100, -10)'), 40);
    sim.set(0.9);
    assert.equal(device.eval('analogValue(34, 1, 0)'), 0.25);
  });

  it('a voltage above full scale reads 4095/4096 (the ADC saturates); an open probe reads 0', () => {
    const device = board();
    const sim = createAnalog({ device, pin: 35, volts: 5 });
    assert.equal(device.eval('analogValue(35, 4096, 0)'), 4095);
    sim.setFault('open');
    assert.equal(device.eval('analogValue(35, 100, 0)'), 0);
  });

  it('no ADC value (an ADC2 pin on the ESP32, any pin on the S3): an error text, not NaN in the reading', () => {
    let device = board();
    createAnalog({ device, pin: 25, volts: 1 });
    assert.equal(device.eval('analogValue(25, 1, 0)'), 'GPIO25 reads no ADC value');
    device = board('ESP32S3');
    createAnalog({ device, pin: 4, volts: 1 });
    assert.equal(device.eval('analogValue(4, 1, 0)'), 'GPIO4 reads no ADC value');
  });
});
