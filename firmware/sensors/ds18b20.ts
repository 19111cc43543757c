// One DS18B20 on a OneWire bus (Espruino's OneWire class, src/jswrap_onewire.c), addressed with
// SKIP ROM as the only device on its pin. Maxim DS18B20 datasheet (19-7487 Rev 6): a conversion is
// CONVERT T 44h, up to 750 ms at 12 bits (Table 2); READ SCRATCHPAD BEh gives 9 bytes, byte 8 the
// CRC of bytes 0..7 (polynomial X^8 + X^5 + X^4 + 1, "CRC Generation"); the temperature register is
// bytes 0 (LSB) and 1 (MSB), two's complement in 1/16 °C at 12 bits; its power-on value is +85 °C
// (0550h, Table 1 note), which is what a read without a finished conversion returns.

function crc8(b: Uint8Array, n: number): number {
  var c = 0;
  for (var i = 0; i < n; i++) {
    c ^= b[i];
    for (var j = 0; j < 8; j++) c = (c >> 1) ^ (c & 1 ? 0x8c : 0);
  }
  return c;
}

/** Error text, or °C, from the 9 scratchpad bytes. */
export function ds18b20Decode(s: Uint8Array): string | number {
  if (crc8(s, 8) !== s[8]) return 'bad CRC';
  if (s[0] === 0x50 && s[1] === 5) return 'no conversion (85 C is the power-on value)';
  var t = (((s[1] << 8) | s[0]) << 16) >> 16;
  t = t / 16;
  if (t < -55 || t > 125) return 'out of range (' + t + ' C)';
  return t;
}

/** Starts a conversion, waits for it and reads it: cb(error text) or cb(null, °C). */
export function ds18b20Read(pin: Pin, cb: (err: string | null, t?: number) => void): void {
  var ow = new OneWire(pin);
  var none = 'no device on GPIO' + pin;
  if (!ow.reset()) {
    setTimeout(function () {
      cb(none);
    }, 0);
    return;
  }
  ow.skip();
  ow.write(0x44, true); // CONVERT T; the line stays driven high for a parasite-powered sensor
  setTimeout(function () {
    if (!ow.reset()) return cb(none);
    ow.skip();
    ow.write(0xbe);
    var r = ds18b20Decode(ow.read(9));
    if (typeof r === 'string') cb(r);
    else cb(null, r);
  }, 750);
}
