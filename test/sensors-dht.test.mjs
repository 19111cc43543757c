// The DHT11/DHT22 driver (firmware/sensors/dht.ts), bundled as for the board, against the
// simulated sensor (host/sim/sensors/dht.mjs) on the virtual ESP32's GPIO, in virtual time.
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { createDht } from '../host/sim/sensors/dht.mjs';

describe('sensors-dht.test.mjs', () => {
  let code;
  before(async () => {
    code = (await bundleModule('firmware/sensors/dht.ts')).code;
  });

  function board(type, values = {}, pin = 13) {
    const clock = createClock({ mode: 'virtual' });
    const device = createEspruino({ clock });
    const sim = createDht({ clock, device, pin, type, ...values });
    device.load(code, 'dht.js');
    return { clock, device, sim };
  }
  async function read({ clock, device }, type, pin = 13) {
    device.eval(`res = null; dhtRead(${pin}, ${type}, function (e, v) { res = [e, v ? [v[0], v[1]] : null]; });`);
    for (let i = 0; i < 200 && !device.eval('res'); i++) await clock.runFor(50);
    const r = device.eval('res');
    assert.ok(r, 'the driver never called back');
    return { err: r[0], v: r[1] && Array.from(r[1]) };
  }

  it('DHT22: 21.5 °C / 48.2 %RH decoded from the timed pulse train; one start, one answer', async () => {
    const b = board('DHT22', { temperature: 21.5, humidity: 48.2 });
    const r = await read(b, 22);
    assert.equal(r.err, null);
    assert.deepEqual(r.v, [21.5, 48.2]);
    assert.equal(b.sim.starts, 1);
    assert.equal(b.device.errors.length, 0, b.device.errors.join('\n'));
  });

  it('DHT22 negative temperatures: bit 15 of the temperature word is the sign (datasheet example -10.1 °C)', async () => {
    const b = board('DHT22', { temperature: -10.1, humidity: 65.2 });
    assert.deepEqual(b.sim.frame().slice(2, 4), [0x80, 0x65], 'the datasheet frame: 1000 0000 0110 0101');
    assert.deepEqual((await read(b, 22)).v, [-10.1, 65.2]);
    b.sim.set({ temperature: -39.9 });
    assert.deepEqual((await read(b, 22)).v, [-39.9, 65.2]);
  });

  it('DHT11: integral + decimal bytes, and its 18 ms start signal (a 2 ms one is not seen by a DHT11)', async () => {
    const b = board('DHT11', { temperature: 24.3, humidity: 61 });
    const r = await read(b, 11);
    assert.deepEqual(r.v, [24.3, 61]);
    // the DHT22 start (2 ms) is too short for a DHT11: no answer, three tries
    const wrong = await read(b, 22);
    assert.match(wrong.err, /^no answer on GPIO13 \(3 tries\)$/);
  });

  it('no answer: three tries, then "no answer on GPIO13 (3 tries)"', async () => {
    const b = board('DHT22');
    b.sim.fault = 'no-answer';
    const t0 = b.clock.now();
    const r = await read(b, 22);
    assert.equal(r.err, 'no answer on GPIO13 (3 tries)');
    assert.equal(b.sim.starts, 3);
    assert.ok(b.clock.now() - t0 >= 4000, 'retries wait the DHT22 sampling period (2 s)');
  });

  it('bad checksum: retried; a good frame on a later try is used', async () => {
    const b = board('DHT22', { temperature: 18.2, humidity: 70.4 });
    b.sim.fault = 'bad-checksum';
    assert.equal((await read(b, 22)).err, 'bad checksum (3 tries)');
    b.sim.faultReads = 1;
    const r = await read(b, 22);
    assert.equal(r.err, null);
    assert.deepEqual(r.v, [18.2, 70.4]);
    assert.equal(b.sim.answers, 5);
  });

  it('out of range: DHT22 above 80 °C, DHT11 above 50 °C, humidity above 100 % are errors', async () => {
    let b = board('DHT22', { temperature: 95.5, humidity: 40 });
    assert.equal((await read(b, 22)).err, 'out of range (95.5 C, 40 %) (3 tries)');
    b = board('DHT22', { temperature: 20, humidity: 100.5 });
    assert.match((await read(b, 22)).err, /^out of range/);
    b = board('DHT11', { temperature: 55, humidity: 40 });
    assert.match((await read(b, 11)).err, /^out of range \(55 C/);
  });

  it('the checksum is the low byte of the sum: a frame whose bytes sum past 255 is accepted', async () => {
    // 65.3 % = 0x028D, 22.5 °C = 0x00E1: 0x02 + 0x8D + 0x00 + 0xE1 = 0x170 → checksum 0x70
    const b = board('DHT22', { temperature: 22.5, humidity: 65.3 });
    assert.deepEqual(b.sim.frame(), [0x02, 0x8d, 0x00, 0xe1, 0x70]);
    assert.deepEqual((await read(b, 22)).v, [22.5, 65.3]);
  });

  it('setWatch timestamps in virtual time resolve the 26 µs / 70 µs high times (µs edges, as jshGetSystemTime on the ESP32)', async () => {
    const b = board('DHT22');
    b.device.eval('ts = []; setWatch(function (e) { ts.push(e.time - e.lastTime); }, 13, { edge: "falling", repeat: true });');
    b.device.eval('digitalWrite(13, 0); pinMode(13, "output"); setTimeout(function () { pinMode(13, "input_pullup"); }, 2);');
    await b.clock.runFor(20);
    const all = Array.from(b.device.eval('ts'));
    assert.equal(all.length, 43, 'the host pulling low, the response low, the 80 µs response high, 40 bits');
    const ts = all.slice(3);
    for (const dt of ts) assert.ok(Math.abs(dt - 27e-6) < 1e-6 || Math.abs(dt - 70e-6) < 1e-6, `high time ${dt}`);
  });
});
