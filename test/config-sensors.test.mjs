// sensors.dht / sensors.ds18b20 / sensors.analog in the config (buildlib/config.mjs): what the
// firmware gets, and every refusal naming the field, what was given and what to change.
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { resolveConfig, ConfigError } from '../buildlib/config.mjs';
import { build, loadBoard } from '../build.mjs';

describe('config-sensors.test.mjs', () => {
  let a7670x, s3, sim800;
  before(async () => {
    [a7670x, s3, sim800] = await Promise.all(['t-a7670x', 't-sim7670g-s3', 't-call-sim800l'].map(loadBoard));
  });
  const cfg = (sensors) => ({ broker: { host: 'mqtt.example.org' }, sensors });
  function problems(sensors, board = a7670x) {
    try {
      resolveConfig(cfg(sensors), { board });
    } catch (err) {
      assert.ok(err instanceof ConfigError, err.stack);
      return err.problems;
    }
    assert.fail('the config was accepted');
  }

  it('DeviceConfig: dht {type 11|22, pin}, ds18b20 {pin}, analog {pin, name, scale, offset} with defaults; absent when not configured', () => {
    const c = resolveConfig(cfg({ bme280: {}, dht: { type: 'DHT11', pin: 13 }, ds18b20: { pin: 14 }, analog: { pin: 34, scale: 2.5 } }), { board: a7670x });
    assert.deepEqual(c.dht, { type: 11, pin: 13 });
    assert.deepEqual(c.ds18b20, { pin: 14 });
    assert.deepEqual(c.analog, { pin: 34, name: 'analog', scale: 2.5, offset: 0 });
    assert.deepEqual(c.bme280, { address: 0x76 });
    const d = resolveConfig(cfg(undefined), { board: a7670x });
    assert.deepEqual([d.dht, d.ds18b20, d.analog], [undefined, undefined, undefined]);
    assert.deepEqual(resolveConfig(cfg({ dht: { type: 'DHT22', pin: 13 } }), { board: a7670x }).dht, { type: 22, pin: 13 });
  });

  it('bad values: type, pin range, scale not a number, a name that is not a plain key', () => {
    const p = problems({ dht: { type: 'AM2301', pin: 13 }, ds18b20: { pin: 60 }, analog: { pin: 34, scale: '2', offset: Infinity, name: 'Soil Moisture' } });
    assert.deepEqual(p, [
      'sensors.dht.type: must be one of "DHT11", "DHT22", got "AM2301"',
      'sensors.ds18b20.pin: must be a whole number from 0 to 48 (the GPIO of its OneWire data line), got 60',
      'sensors.analog.name: must be a string (its key in the reading: a lower-case letter, then up to 15 of a-z, 0-9, _), got "Soil Moisture"',
      'sensors.analog.scale: must be a number from -1000000 to 1000000 (the reading is analogRead (0..1 of full scale) × scale + offset), got "2"',
      'sensors.analog.offset: must be a number from -1000000 to 1000000, got null',
    ]);
    assert.deepEqual(problems({ dht: { pin: 13 } }), ['sensors.dht.type: missing; must be one of "DHT11", "DHT22"']);
  });

  it('pins: two sensors on one GPIO, or a GPIO the board gives the modem or the battery ADC, is refused naming both roles', () => {
    assert.deepEqual(problems({ dht: { type: 'DHT22', pin: 14 }, ds18b20: { pin: 14 } }), [
      "GPIO14 has two roles on t-a7670x: the DHT's data line (sensors.dht.pin in the config) and the DS18B20's OneWire line (sensors.ds18b20.pin in the config); move sensors.ds18b20.pin to a pin the board leaves free",
    ]);
    assert.deepEqual(problems({ dht: { type: 'DHT22', pin: 27 } }), [
      "GPIO27 has two roles on t-a7670x: the modem UART's ESP32 RX (uart.rx in boards/t-a7670x.ts) and the DHT's data line (sensors.dht.pin in the config); move sensors.dht.pin to a pin the board leaves free",
    ]);
    assert.match(
      problems({ analog: { pin: 35 } }).join('\n'),
      /GPIO35 has two roles on t-a7670x: the battery ADC .* and the analog input \(sensors\.analog\.pin in the config\)/,
    );
    assert.match(problems({ ds18b20: { pin: 21 } }).join('\n'), /GPIO21 has two roles on t-a7670x: the sensor I2C SDA .* and the DS18B20's OneWire line/);
  });

  it("ESP32 pins: the SPI flash's 6..11 and the input-only 34..39 are refused for DHT/DS18B20; analog only on ADC1 (32..39)", () => {
    assert.deepEqual(problems({ dht: { type: 'DHT22', pin: 7 } }), [
      "sensors.dht.pin: GPIO7 is wired to the ESP32's SPI flash; use a pin the board leaves free",
    ]);
    assert.deepEqual(problems({ ds18b20: { pin: 36 } }), [
      'sensors.ds18b20.pin: GPIO36 is input only on the ESP32, and the OneWire bus needs a pin that can drive the line; use another GPIO',
    ]);
    assert.deepEqual(problems({ analog: { pin: 2 } }), [
      "sensors.analog.pin: Espruino's ESP32 build reads only the ADC1 pins, GPIO 32 to 39 (ADC2 is not supported); got GPIO2",
    ]);
    assert.deepEqual(problems({ dht: { type: 'DHT22', pin: 45 } }), ['sensors.dht.pin: the ESP32 of t-a7670x has GPIO 0 to 39, got 45']);
  });

  it("the ESP32-S3 (T-SIM7670G-S3): analog refused (no ADC in Espruino's S3 board file); DHT on GPIO 45 is fine there", () => {
    assert.deepEqual(problems({ analog: { pin: 5 } }, s3), [
      "sensors.analog.pin: Espruino's ESP32-S3 build reads no ADC (its board file gives no pin an analog function, analogRead returns NaN); an analog input needs an ESP32 board",
    ]);
    assert.deepEqual(resolveConfig(cfg({ dht: { type: 'DHT22', pin: 45 } }), { board: s3 }).dht, { type: 22, pin: 45 });
  });

  it('an analog name that is already a reading key (t, rssi, n, ...) is refused', () => {
    assert.deepEqual(problems({ analog: { pin: 34, name: 'rssi' } }), [
      'sensors.analog.name: "rssi" is already a key of the reading (ts, t, p, h, dht_t, dht_h, ds_t, bv, lat, lon, alt, low, err, rssi, up, bat, chg, n); choose another name, e.g. "soil"',
    ]);
  });

  it('bundles: a config without these sensors carries none of their code; each sensor adds only its own driver', async function () {
    this.timeout(60000);
    const plain = { broker: { host: 'mqtt.example.org' } };
    const size = async (sensors, board = 't-a7670x') => (await build({ board, config: { ...plain, sensors }, outFile: false })).code;
    const none = await size({ bme280: {} });
    for (const word of ['setWatch', 'OneWire', 'analogRead', 'dht: ', 'ds18b20: ']) assert.ok(!none.includes(word), `${word} in a BME280-only bundle`);
    const dht = await size({ bme280: {}, dht: { type: 'DHT22', pin: 13 } });
    assert.ok(dht.includes('setWatch') && !dht.includes('OneWire') && !dht.includes('analogRead'));
    const ds = await size({ bme280: {}, ds18b20: { pin: 14 } });
    assert.ok(ds.includes('OneWire') && !ds.includes('setWatch'));
    const an = await size({ bme280: {}, analog: { pin: 34 } });
    assert.ok(an.includes('analogRead') && !an.includes('OneWire') && !an.includes('setWatch'));
    // the T-Call SIM800L: GPIO13 is its LED; a DHT goes on a free pin
    await assert.rejects(
      build({ board: 't-call-sim800l', config: { ...plain, sensors: { dht: { type: 'DHT11', pin: 13 } } }, outFile: false }),
      /GPIO13 has two roles on t-call-sim800l: the LED/,
    );
    assert.equal(sim800.id, 't-call-sim800l');
    const t = await build({ board: 't-call-sim800l', config: { ...plain, sensors: { dht: { type: 'DHT11', pin: 18 } } }, outFile: false });
    assert.deepEqual(t.config.dht, { type: 11, pin: 18 });
  });
});
