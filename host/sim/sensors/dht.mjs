// A DHT11 or DHT22 (AM2302) on one GPIO of the virtual board, answering the host's start signal
// with the datasheet's pulse train (Aosong DHT22 datasheet §7 "Communication and signal", DHT11
// datasheet §5, the same single-bus protocol):
//   the host pulls the line low (DHT22: "at least 1ms", DHT11: "at least 18ms") and releases it;
//   20-40 µs later the sensor pulls it low 80 µs, releases it 80 µs, then sends 40 bits, most
//   significant first, each 50 µs low and then high for 26-28 µs (0) or 70 µs (1); after the last
//   bit it pulls the line low 50 µs and releases it. The module's pull-up resistor holds the line
//   high whenever nobody pulls it low (modelled as this part driving 1 while idle).
// Frame (both datasheets): 5 bytes, byte 4 = low 8 bits of the sum of bytes 0..3.
//   DHT22: RH × 10 (16 bits), T × 10 (15 bits, bit 15 set below 0 °C)
//   DHT11: RH integral, RH decimal (tenths), T integral, T decimal (tenths)
// Faults (set by tests): 'no-answer' (the sensor does not react: unpowered, wrong pin),
// 'bad-checksum' (byte 4 off by one: a corrupted transfer), both for `faultReads` reads (default
// all); out-of-range values are just values (set temperature 99).

const US = 0.001; // ms

export function createDht({ clock, device, pin, type = 'DHT22', temperature = 21.5, humidity = 48.2 }) {
  if (type !== 'DHT11' && type !== 'DHT22') throw new Error(`createDht: type must be DHT11 or DHT22, got ${type}`);
  const pins = device.pins;
  const minStartMs = type === 'DHT22' ? 1 : 18;
  let lowSince = null;
  let sending = false;
  const sim = {
    type,
    pin,
    temperature,
    humidity,
    fault: null,
    faultReads: Infinity,
    /** start signals seen / answered */
    starts: 0,
    answers: 0,
    set({ temperature: t, humidity: h } = {}) {
      if (t !== undefined) sim.temperature = t;
      if (h !== undefined) sim.humidity = h;
    },
    /** the 5 bytes the sensor sends now */
    frame() {
      let b;
      if (type === 'DHT22') {
        const h = Math.round(sim.humidity * 10) & 0xffff;
        const t = (Math.round(Math.abs(sim.temperature) * 10) & 0x7fff) | (sim.temperature < 0 ? 0x8000 : 0);
        b = [h >> 8, h & 255, t >> 8, t & 255];
      } else {
        const h10 = Math.round(sim.humidity * 10);
        const t10 = Math.round(Math.max(0, sim.temperature) * 10);
        b = [Math.floor(h10 / 10) & 255, h10 % 10, Math.floor(t10 / 10) & 255, t10 % 10];
      }
      b.push((b[0] + b[1] + b[2] + b[3]) & 255);
      return b;
    },
  };
  pins.drive(pin, 1); // pull-up
  function answer() {
    const fault = sim.faultReads > 0 ? sim.fault : null;
    if (fault) sim.faultReads--;
    if (fault === 'no-answer') return;
    const f = sim.frame();
    if (fault === 'bad-checksum') f[4] = (f[4] + 1) & 255;
    sim.answers++;
    // [level, duration ms] from 30 µs after the release
    const steps = [
      [0, 80 * US],
      [1, 80 * US],
    ];
    for (let i = 0; i < 40; i++) {
      const bit = (f[i >> 3] >> (7 - (i & 7))) & 1;
      steps.push([0, 50 * US], [1, (bit ? 70 : 27) * US]);
    }
    steps.push([0, 50 * US], [1, 0]);
    sending = true;
    let at = 30 * US;
    for (const [level, ms] of steps) {
      const when = at;
      clock.setTimeout(() => pins.drive(pin, level), when);
      at += ms;
    }
    clock.setTimeout(() => {
      sending = false;
    }, at);
  }
  pins.onChange(pin, (level, t) => {
    if (sending) return;
    if (level === 0) lowSince = t;
    else if (lowSince !== null) {
      const held = t - lowSince;
      lowSince = null;
      if (held >= minStartMs) {
        sim.starts++;
        answer();
      }
    }
  });
  return sim;
}
