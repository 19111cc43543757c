// The DS18B20 driver (firmware/sensors/ds18b20.ts), bundled as for the board, on the runtime's
// OneWire (host/runtime/onewire.mjs) with the simulated part (host/sim/sensors/ds18b20.mjs).
import { describe, it, before } from 'mocha';
import assert from 'node:assert/strict';
import { bundleModule } from '../build.mjs';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { createDs18b20, crc8 } from '../host/sim/sensors/ds18b20.mjs';

describe('sensors-ds18b20.test.mjs', () => {
  let code;
  before(async () => {
    code = (await bundleModule('firmware/sensors/ds18b20.ts')).code;
  });

  function board(opts = {}, attach = true) {
    const clock = createClock({ mode: 'virtual' });
    const device = createEspruino({ clock });
    const sim = attach ? createDs18b20({ clock, device, pin: 14, ...opts }) : null;
    device.load(code, 'ds18b20.js');
    return { clock, device, sim };
  }
  async function read({ clock, device }) {
    const t0 = clock.now();
    device.eval('res = null; ds18b20Read(14, function (e, t) { res = [e, t]; });');
    for (let i = 0; i < 100 && !device.eval('res'); i++) await clock.runFor(20);
    const r = device.eval('res');
    assert.ok(r, 'the driver never called back');
    return { err: r[0], t: r[1], ms: clock.now() - t0 };
  }

  it('converts, waits the 750 ms of a 12-bit conversion and reads the scratchpad: 21.0625 °C', async () => {
    const b = board({ temperature: 21.0625 });
    const r = await read(b);
    assert.equal(r.err, null);
    assert.equal(r.t, 21.0625);
    assert.ok(r.ms >= 750, `${r.ms} ms`);
    assert.equal(b.sim.conversions, 1);
    assert.equal(b.device.errors.length, 0, b.device.errors.join('\n'));
  });

  it("negative temperatures (two's complement): -10.125 °C and -55 °C", async () => {
    const b = board({ temperature: -10.125 });
    assert.equal((await read(b)).t, -10.125);
    b.sim.set(-55);
    assert.equal((await read(b)).t, -55);
  });

  it('no device: "no device on GPIO14" (reset gives no presence pulse), unplugged or absent', async () => {
    assert.equal((await read(board({}, false))).err, 'no device on GPIO14');
    const b = board();
    b.sim.fault = 'absent';
    assert.equal((await read(b)).err, 'no device on GPIO14');
  });

  it('bad CRC is an error, not a temperature', async () => {
    const b = board({ temperature: 30 });
    b.sim.fault = 'bad-crc';
    assert.equal((await read(b)).err, 'bad CRC');
  });

  it('85 °C (0550h) right after power-up, when the conversion did not happen, is "no conversion"', async () => {
    const b = board({ temperature: 19 });
    b.sim.fault = 'no-conversion';
    const pad = b.sim.scratchpad;
    assert.deepEqual(pad.slice(0, 2), [0x50, 0x05]);
    assert.equal(crc8(pad.slice(0, 8)), pad[8], 'the power-on scratchpad has a good CRC: only the value tells');
    assert.equal((await read(b)).err, 'no conversion (85 C is the power-on value)');
    b.sim.fault = null;
    assert.equal((await read(b)).t, 19);
  });

  it('out of range (above 125 °C) is an error', async () => {
    const b = board({ temperature: 130 });
    assert.equal((await read(b)).err, 'out of range (130 C)');
  });
});
