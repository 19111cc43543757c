// DHT11 / DHT22 (AM2302) on one GPIO with a pull-up: the host pulls the line low (DHT22 "at least
// 1ms", DHT11 "at least 18ms"), releases it, and the sensor answers 80 µs low, 80 µs high, then 40
// bits, each 50 µs low followed by 26-28 µs high for a 0 or 70 µs high for a 1, most significant
// bit first, then 50 µs low and the bus is released (Aosong DHT22 datasheet §7 "Communication and
// signal" steps 1-3; Aosong DHT11 datasheet §5 the same timings with the 18 ms start).
// The pulse train is timed as EspruinoDocs devices/DHT22.js does: a setWatch on falling edges,
// whose event carries the edge's time and the previous edge's (lastTime): the high time before a
// falling edge is the bit (> 50 µs: 1). Espruino timestamps the edges in the GPIO interrupt
// (targets/esp32/jshardware.c gpio_intr_handler → jshPushIOWatchEvent, jshGetSystemTime in µs),
// so the JS runs later, from the event queue, with the times intact.
// Frame: 5 bytes, byte 4 = low 8 bits of the sum of bytes 0..3 (both datasheets).
//   DHT22: RH = (b0 << 8 | b1) / 10 %; T = ((b2 & 0x7f) << 8 | b3) / 10 °C, negative when bit 7
//          of b2 is set (DHT22 datasheet: "When highest bit of temperature is 1, it means the
//          temperature is below 0 degree Celsius").
//   DHT11: RH = b0 + b1 / 10 %; T = b2 + b3 / 10 °C (integral and decimal bytes).
// Ranges: DHT22 -40..80 °C, DHT11 0..50 °C, both 0..100 %RH.

/** reads (datasheets: DHT22 at most every 2 s, DHT11 every 1 s) */
const TRIES = 3;

/** Error text, or [°C, %RH], from the 5 frame bytes. */
export function dhtDecode(b: number[], type: number): string | number[] {
  if (!(b[0] | b[1] | b[2] | b[3])) return 'no data (all zero)';
  if (((b[0] + b[1] + b[2] + b[3]) & 255) !== b[4]) return 'bad checksum';
  var t: number, h: number;
  if (type === 22) {
    h = ((b[0] << 8) | b[1]) / 10;
    t = (((b[2] & 127) << 8) | b[3]) / 10;
    if (b[2] & 128) t = -t;
  } else {
    h = b[0] + b[1] / 10;
    t = b[2] + b[3] / 10;
  }
  if (h > 100 || t < (type === 22 ? -40 : 0) || t > (type === 22 ? 80 : 50)) return 'out of range (' + t + ' C, ' + h + ' %)';
  return [t, h];
}

/** One start pulse and the 40 bits; cb(error text) or cb(null, [°C, %RH]). */
function once(pin: Pin, type: number, cb: (err: string | null, v?: number[]) => void) {
  var d = '';
  digitalWrite(pin, 0);
  pinMode(pin, 'output'); // manual mode: setWatch leaves it driving the start pulse
  var w = setWatch(
    function (e) {
      d += e.time - e.lastTime > 0.00005 ? '1' : '0';
    },
    pin,
    { edge: 'falling', repeat: true },
  );
  var start = type === 22 ? 2 : 20;
  setTimeout(function () {
    pinMode(pin, 'input_pullup'); // release: the sensor answers 20-40 µs later
  }, start);
  // the answer takes 80 + 80 + 40 × ~100 µs: about 5 ms
  setTimeout(function () {
    clearWatch(w);
    if (!d) return cb('no answer on GPIO' + pin);
    if (d.length < 40) return cb('incomplete answer (' + d.length + ' of 40 bits)');
    d = d.substr(d.length - 40);
    var b: number[] = [];
    for (var i = 0; i < 5; i++) b.push(parseInt(d.substr(i * 8, 8), 2));
    var r = dhtDecode(b, type);
    if (typeof r === 'string') cb(r);
    else cb(null, r);
  }, start + 10);
}

/** Reads a DHT11 (type 11) or DHT22 (type 22), trying up to 3 times; cb(error text) or cb(null, [°C, %RH]). */
export function dhtRead(pin: Pin, type: number, cb: (err: string | null, v?: number[]) => void): void {
  var n = 0;
  function go() {
    once(pin, type, function (err, v) {
      if (!err || ++n >= TRIES) return cb(err ? err + ' (' + n + ' tries)' : null, v);
      setTimeout(go, type === 22 ? 2000 : 1000);
    });
  }
  go();
}
