// A DS18B20 on a OneWire bus of the virtual board (attached to the runtime's OneWire,
// host/runtime/onewire.mjs), externally powered. Maxim DS18B20 datasheet (19-7487 Rev 6):
//   ROM: 8 bytes, family code 28h, a 48-bit serial, then the CRC of those 7 bytes ("64-bit Lasered
//   ROM Code"); CRC = Dallas/Maxim CRC-8, X^8 + X^5 + X^4 + 1 ("CRC Generation").
//   Every transaction: reset/presence, a ROM command (33h READ ROM, 55h MATCH ROM, CCh SKIP ROM,
//   F0h SEARCH ROM, ECh ALARM SEARCH), then a function command (44h CONVERT T, BEh READ
//   SCRATCHPAD, 4Eh WRITE SCRATCHPAD, 48h COPY SCRATCHPAD, B8h RECALL E2, B4h READ POWER SUPPLY).
//   Data LSB first. During CONVERT T read slots return 0, then 1 when done (external power).
//   Conversion time: 93.75 / 187.5 / 375 / 750 ms at 9 / 10 / 11 / 12 bits (Table 2).
//   Scratchpad: temperature LSB, MSB (two's complement, 1/16 °C at 12 bits; at 9..11 bits the low
//   bits are undefined: 0 here), TH, TL, configuration (R1 R0 in bits 6:5; 7Fh = 12 bits), FFh,
//   reserved, 10h, CRC of bytes 0..7. Power-on: temperature register +85 °C (0550h), TH/TL/config
//   from EEPROM.
// Faults (set by tests): 'absent' (no presence pulse, the line stays high: unplugged),
// 'bad-crc' (the scratchpad's CRC byte is corrupted in transfer), 'no-conversion' (CONVERT T does
// not complete, as for a parasite-powered part without the strong pull-up: the register keeps
// what it had, 85 °C after power-on). Out-of-range values are values (set 130).

export function crc8(bytes) {
  let c = 0;
  for (const b of bytes) {
    c ^= b;
    for (let j = 0; j < 8; j++) c = c & 1 ? (c >> 1) ^ 0x8c : c >> 1;
  }
  return c;
}

const CONV_MS = { 9: 93.75, 10: 187.5, 11: 375, 12: 750 };

export function createDs18b20({ clock, device, pin, serial = [0x5e, 0x3a, 0x21, 0x0b, 0x00, 0x00], temperature = 21.0, eeprom = [0x4b, 0x46, 0x7f] }) {
  const rom = [0x28, ...serial];
  rom.push(crc8(rom));
  const sim = {
    pin,
    rom,
    /** the ROM id as Espruino's OneWire.search() lists it */
    romHex: rom.map((b) => b.toString(16).padStart(2, '0')).join(''),
    temperature,
    fault: null,
    conversions: 0,
    set(t) {
      sim.temperature = t;
    },
    /** the sensor loses and regains its supply: the scratchpad is back to its power-on values */
    powerCycle() {
      powerOn();
    },
    get scratchpad() {
      return pad.slice();
    },
  };
  let pad;
  let convDoneAt = null;
  function powerOn() {
    pad = [0x50, 0x05, eeprom[0], eeprom[1], eeprom[2], 0xff, 0x0c, 0x10];
    pad.push(crc8(pad));
    convDoneAt = null;
  }
  powerOn();
  const bits = () => 9 + ((pad[4] >> 5) & 3);
  function finishConversion(now) {
    if (convDoneAt === null || now < convDoneAt) return;
    convDoneAt = null;
    if (sim.fault === 'no-conversion') return;
    const r = bits();
    let raw = Math.round(sim.temperature * 16) & 0xffff;
    raw &= 0xffff << (12 - r); // undefined low bits below 12-bit resolution: 0 here
    pad[0] = raw & 255;
    pad[1] = (raw >> 8) & 255;
    pad[8] = crc8(pad.slice(0, 8));
    sim.conversions++;
  }

  // bus state: 'idle' (ignores the bus until a reset), 'romcmd', 'matchrom', 'search', 'fncmd',
  // 'send' (bits queued for read slots), 'write' (receiving scratchpad bytes), 'convert'
  let state = 'idle';
  let inBits = [];
  let out = [];
  let search = null;
  const byteOf = (b) => b.reduce((v, bit, i) => v | (bit << i), 0);
  const sendBytes = (bytes) => {
    out = [];
    for (const b of bytes) for (let i = 0; i < 8; i++) out.push((b >> i) & 1);
    state = 'send';
  };
  function command(cmd, now) {
    if (state === 'romcmd') {
      if (cmd === 0x33) return sendBytes(rom);
      if (cmd === 0xcc) return void (state = 'fncmd');
      if (cmd === 0x55) return void (state = 'matchrom');
      if (cmd === 0xf0 || cmd === 0xec) {
        // ECh: only a device whose alarm flag is set takes part (none here: TH/TL not crossed)
        if (cmd === 0xec) return void (state = 'idle');
        search = { bit: 0, phase: 0 };
        return void (state = 'search');
      }
      return void (state = 'idle');
    }
    if (state === 'fncmd') {
      finishConversion(now);
      if (cmd === 0x44) {
        convDoneAt = now + CONV_MS[bits()];
        return void (state = 'convert');
      }
      if (cmd === 0xbe) {
        const p = pad.slice();
        if (sim.fault === 'bad-crc') p[8] ^= 0x01;
        return sendBytes(p);
      }
      if (cmd === 0x4e) {
        inBits = [];
        return void (state = 'write');
      }
      if (cmd === 0xb4) return sendBytes([0xff]); // externally powered: read slots 1
      return void (state = 'idle'); // 48h/B8h: copy/recall, immediate enough here
    }
  }
  const dev = {
    reset(now) {
      finishConversion(now);
      if (sim.fault === 'absent') return false;
      state = 'romcmd';
      inBits = [];
      return true;
    },
    writeBit(bit, now) {
      if (sim.fault === 'absent' || state === 'idle' || state === 'send' || state === 'convert') return;
      if (state === 'search') {
        if (search.phase === 2) {
          const mine = (rom[search.bit >> 3] >> (search.bit & 7)) & 1;
          if (bit !== mine) return void (state = 'idle');
          search.bit++;
          search.phase = 0;
          if (search.bit === 64) state = 'idle';
        }
        return;
      }
      inBits.push(bit);
      if (state === 'matchrom') {
        if (inBits.length === 64) {
          const got = [];
          for (let i = 0; i < 8; i++) got.push(byteOf(inBits.slice(i * 8, i * 8 + 8)));
          inBits = [];
          state = got.every((b, i) => b === rom[i]) ? 'fncmd' : 'idle';
        }
        return;
      }
      if (inBits.length < 8) return;
      const b = byteOf(inBits);
      inBits = [];
      if (state === 'write') {
        const k = (dev.written = (dev.written || 0) + 1);
        pad[1 + k] = b; // TH, TL, config
        if (k === 3) {
          dev.written = 0;
          pad[8] = crc8(pad.slice(0, 8));
          state = 'idle';
        }
        return;
      }
      command(b, now);
    },
    readBit(now) {
      if (sim.fault === 'absent') return 1;
      if (state === 'convert') {
        finishConversion(now);
        return convDoneAt === null ? 1 : 0;
      }
      if (state === 'search') {
        const mine = (rom[search.bit >> 3] >> (search.bit & 7)) & 1;
        if (search.phase === 0) {
          search.phase = 1;
          return mine;
        }
        if (search.phase === 1) {
          search.phase = 2;
          return mine ^ 1;
        }
        return 1;
      }
      if (state === 'send' && out.length) {
        const b = out.shift();
        if (!out.length) state = 'idle';
        return b;
      }
      return 1;
    },
  };
  device.oneWire.attach(pin, dev);
  return sim;
}
