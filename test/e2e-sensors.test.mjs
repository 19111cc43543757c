// End to end with every sensor people wire: the built bundle (BME280 + DHT22 + DS18B20 + analog)
// on the virtual T-A7670X, each sensor simulated on its pin, the reading reaching the broker.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRig } from '../host/testing/rig.mjs';
import { compensate, DATASHEET_CALIB, DATASHEET_RAW } from '../host/sim/i2c/bme280.mjs';

describe('e2e-sensors.test.mjs', () => {
  const modemOptions = { clockUtc: Date.UTC(2026, 10, 23, 9, 0, 0), network: { rssi: 23 } };
  const sensors = {
    bme280: {},
    dht: { type: 'DHT22', pin: 13 },
    ds18b20: { pin: 14 },
    analog: { pin: 34, name: 'soil', scale: 100, offset: 0 },
  };
  // 65.3 %RH / 22.5 °C: frame bytes 02 8D 00 E1 sum to 0x170, so the checksum needs the & 255
  const sensorOptions = { dht: { temperature: 22.5, humidity: 65.3 }, ds18b20: { temperature: -3.25 }, analog: { volts: 1.17 } };

  async function withRig(opts, fn) {
    const rig = await createRig({ modemOptions, config: { sensors }, sensorOptions, ...opts });
    try {
      rig.start();
      await fn(rig);
    } finally {
      await rig.close();
    }
  }

  it('BME280 + DHT22 + DS18B20 + analog in one reading at the broker; then faults become "name: why" in err', async function () {
    this.timeout(60000);
    await withRig({}, async (rig) => {
      assert.deepEqual(Object.keys(rig.sensors).sort(), ['analog', 'dht', 'ds18b20']);
      assert.ok(await rig.until(() => rig.readings().length >= 1, 90000), rig.explain('no reading reached the broker'));
      const r = JSON.parse(rig.readings()[0].text);
      const env = compensate(DATASHEET_CALIB, DATASHEET_RAW);
      const soil = Math.round((Math.floor((1.17 / 3.6) * 4096) / 4096) * 100 * 1000) / 1000; // 12-bit ADC, × 100
      assert.deepEqual(Object.keys(r), ['ts', 't', 'p', 'h', 'dht_t', 'dht_h', 'ds_t', 'soil', 'rssi', 'up', 'n']);
      assert.deepEqual(
        [r.t, r.p, r.h, r.dht_t, r.dht_h, r.ds_t, r.soil],
        [Math.round(env.t * 100) / 100, Math.round(env.p) / 100, Math.round(env.h * 100) / 100, 22.5, 65.3, -3.25, soil],
      );
      assert.equal(rig.sensors.dht.starts, 1);
      assert.equal(rig.sensors.ds18b20.conversions, 1);

      // two sensors fail at once: the reading still goes, with each failure named
      rig.sensors.dht.fault = 'no-answer';
      rig.sensors.ds18b20.fault = 'bad-crc';
      const before = rig.readings().length;
      assert.ok(await rig.until(() => rig.readings().length > before, 70000), rig.explain('no second reading'));
      const f = JSON.parse(rig.readings()[before].text);
      assert.equal(f.dht_t, undefined);
      assert.equal(f.ds_t, undefined);
      assert.match(f.err, /dht: no answer on GPIO13 \(3 tries\); ds18b20: bad CRC$/);
      assert.equal(typeof f.soil, 'number');
      assert.deepEqual(rig.device.errors, []);
    });
  });

  it('mutation: the DHT checksum without "& 255" (the sum kept whole) loses the DHT values of that reading', async function () {
    this.timeout(60000);
    const mutate = (code) => {
      const re = /\((\w+)\[0\]\+\1\[1\]\+\1\[2\]\+\1\[3\]&255\)/;
      assert.match(code, re, 'the bundle has the checksum arithmetic');
      return code.replace(re, '($1[0]+$1[1]+$1[2]+$1[3])');
    };
    await withRig({ mutate }, async (rig) => {
      assert.ok(await rig.until(() => rig.readings().length >= 1, 90000), rig.explain('no reading reached the broker'));
      const r = JSON.parse(rig.readings()[0].text);
      assert.equal(r.dht_t, undefined, 'a DHT value got through a checksum that cannot match');
      assert.match(r.err, /^dht: bad checksum \(3 tries\)$/);
    });
  });
});
