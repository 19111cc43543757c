// The host runtime's OneWire (host/runtime/onewire.mjs) against what src/jswrap_onewire.c does,
// with the DS18B20 simulator (host/sim/sensors/ds18b20.mjs) and a second part on the bus.
import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createClock } from '../host/runtime/clock.mjs';
import { createEspruino } from '../host/runtime/espruino.mjs';
import { createDs18b20, crc8 } from '../host/sim/sensors/ds18b20.mjs';

describe('onewire-runtime.test.mjs', () => {
  function board() {
    const clock = createClock({ mode: 'virtual' });
    const device = createEspruino({ clock });
    device.load('var ow = new OneWire(D14);');
    return { clock, device };
  }

  it('reset() is false with nothing on the bus, true with a part that answers the presence pulse', () => {
    const { clock, device } = board();
    assert.equal(device.eval('ow.reset()'), false);
    assert.deepEqual(Array.from(device.eval('ow.search()')), []);
    createDs18b20({ clock, device, pin: 14 });
    assert.equal(device.eval('ow.reset()'), true);
    // an invalid pin: jswrap_onewire_reset returns 0 (false) before touching anything
    assert.equal(device.eval('new OneWire(99).reset()'), false);
  });

  it('search() lists each ROM as 16 lowercase hex characters, family code first, CRC last (two parts: the AN187 search walks both)', () => {
    const { clock, device } = board();
    const a = createDs18b20({ clock, device, pin: 14, serial: [0xff, 0xa2, 0x10, 0x00, 0x00, 0x00] });
    const b = createDs18b20({ clock, device, pin: 14, serial: [0x01, 0x02, 0x03, 0x04, 0x05, 0x06] });
    const found = Array.from(device.eval('ow.search()'));
    assert.deepEqual(found.sort(), [a.romHex, b.romHex].sort());
    for (const id of found) {
      assert.match(id, /^28[0-9a-f]{14}$/);
      const bytes = id.match(/../g).map((h) => parseInt(h, 16));
      assert.equal(crc8(bytes.slice(0, 7)), bytes[7], `ROM CRC of ${id}`);
    }
    assert.equal(device.eval('Array.isArray(ow.search())'), true);
  });

  it('select(rom) talks to that part only; a bad address is a TypeError, as jswrap_onewire_select', () => {
    const { clock, device } = board();
    const a = createDs18b20({ clock, device, pin: 14, serial: [1, 0, 0, 0, 0, 0], temperature: 10 });
    const b = createDs18b20({ clock, device, pin: 14, serial: [2, 0, 0, 0, 0, 0], temperature: -10.5 });
    device.eval(`ow.reset(); ow.skip(); ow.write(0x44, true);`); // both convert
    return clock.runFor(800).then(() => {
      const read = (id) => Array.from(device.eval(`ow.select(${JSON.stringify(id)}); ow.write(0xBE); ow.read(9)`));
      const pa = read(a.romHex);
      const pb = read(b.romHex);
      assert.deepEqual(pa.slice(0, 2), [160, 0]); // 10 °C × 16 = 0x00A0
      assert.deepEqual(pb.slice(0, 2), [0x58, 0xff]); // -10.5 × 16 = -168 = 0xFF58
      assert.equal(crc8(pa.slice(0, 8)), pa[8]);
      assert.throws(
        () => device.eval('ow.select("28ff")'),
        (e) => e.name === 'TypeError' && /Invalid OneWire device address/.test(e.message),
      );
    });
  });

  it('read() gives a number, read(n) a Uint8Array; write(data, true) leaves the pin driven high, else an input', () => {
    const { clock, device } = board();
    createDs18b20({ clock, device, pin: 14 });
    device.eval('ow.reset(); ow.skip(); ow.write(0xBE);');
    assert.equal(device.eval('typeof ow.read()'), 'number');
    assert.equal(device.eval('ow.read(3) instanceof Uint8Array'), true);
    device.eval('ow.reset(); ow.skip(); ow.write([0x44], true);');
    assert.equal(device.pins.mode(14), 'output');
    assert.equal(device.pins.level(14), 1);
    device.eval('ow.reset(); ow.skip(); ow.write(0xBE);');
    assert.equal(device.pins.mode(14), 'input');
  });

  it('the DS18B20 powers up at 85 °C, converts in 750 ms at 12 bits (read slots 0 while converting, then 1)', async () => {
    const { clock, device } = board();
    createDs18b20({ clock, device, pin: 14, temperature: 23.5 });
    const pad = () => Array.from(device.eval('ow.reset(); ow.skip(); ow.write(0xBE); ow.read(9)'));
    assert.deepEqual(pad().slice(0, 2), [0x50, 0x05], 'power-on value 0550h');
    device.eval('ow.reset(); ow.skip(); ow.write(0x44);');
    await clock.runFor(700);
    assert.equal(device.eval('ow.read()'), 0, 'still converting at 700 ms');
    await clock.runFor(60);
    assert.equal(device.eval('ow.read()'), 255, 'done after 750 ms');
    assert.deepEqual(pad().slice(0, 2), [0x78, 0x01]); // 23.5 × 16 = 376 = 0x0178
  });
});
