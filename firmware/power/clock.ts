// Time on a duty-cycled station. The RTC keeps counting through deep sleep (Espruino's ESP32
// getTime() is gettimeofday(), targets/esp32/jshardware.c jshGetSystemTime, which ESP-IDF keeps
// from the RTC timer across deep sleep), so once the network has given the time it stays known.
// But in deep sleep that timer runs from the 150 kHz RC oscillator (ESP32 datasheet: "internal
// 150 kHz RC oscillator", its frequency "adjustable" and temperature-dependent; ESP-IDF System Time
// docs: the RTC_SLOW_CLK "frequency stability is affected by temperature", calibrated only at
// boot), which drifts by up to a few per cent. So at each upload the network's time is compared
// with the RTC's:
//   - the offset is logged, and the drift rate (offset / time since the last sync) learned,
//     averaged over up to a day of syncs;
//   - readings taken since the last sync get their timestamps corrected when they are published
//     (the offset spread linearly over the window, minus what the learned rate already put in);
//   - new readings are taken with the learned rate applied, and sleeps are lengthened or shortened
//     by it, so a reading lands on time even on a station that cannot sync.
import { log, timeKnown, uptime } from '../log';
import { parseCclk } from '../modem/cclk';
import type { DutyState } from './state';

let st: DutyState;
let base0 = 0; // the RTC at uptime 0 of this boot, before any set
let synced = false;

export function clockInit(s: DutyState) {
  st = s;
  base0 = getTime() - uptime();
}

function iso(t: number): string {
  return new Date(Math.floor(t) * 1000).toISOString().substr(0, 19) + 'Z';
}

/** The timestamp of a reading taken now, null while the time is not known. */
export function readingTs(): string | null {
  if (timeKnown()) return iso(getTime());
  if (!st.k) return null;
  const t = getTime();
  return iso(t + st.r * (t - st.s) + 0.5);
}

/** The network has set the RTC in this wake (log.ts setUtc): measure, learn, remember the window
 *  of readings (numbers after lastN of the previous sync, up to lastN) to correct. */
export function clockSync(lastN: number) {
  if (synced || !timeKnown()) return;
  synced = true;
  const off = getTime() - uptime() - base0; // network minus RTC
  const now = getTime();
  if (st.k) {
    const e = now - off - st.s; // RTC seconds since the last sync
    const h = e / 3600;
    log('clock: ' + (off < 0 ? '' : '+') + off.toFixed(1) + ' s off the network time after ' + h.toFixed(1) + ' h');
    if (e > 60) {
      if (lastN > st.n) st.c.push([st.n, lastN, st.s, off / e - st.r]);
      st.r = (st.r * st.w + off) / (st.w + e);
      st.w = Math.min(st.w + e, 86400);
    }
  } else log('clock: set from the network (' + iso(now) + ')');
  st.k = 1;
  st.s = now;
  st.n = lastN;
}

/** The reading as it should be published: its timestamp corrected if a sync has measured the
 *  RTC's error over the window it was taken in. */
export function fixReading(json: string): string {
  const c = st.c;
  if (!c.length) return json;
  const r = JSON.parse(json);
  while (c.length && c[0][1] < r.n) c.shift(); // windows all published
  const w = c[0];
  if (!w || r.n <= w[0] || !r.ts) return json;
  // the ISO text "2025-01-01T00:00:00Z" from its 3rd character has +CCLK's field positions
  const t = parseCclk('"' + r.ts.substr(2));
  if (!t) return json;
  r.ts = iso(t + w[3] * (t - w[2]) + 0.5);
  return JSON.stringify(r);
}

/** Microseconds to ask the sleep timer for, to sleep s seconds of network time. */
export function sleepUs(s: number): number {
  return Math.round(s * 1e6 * (1 - st.r));
}
