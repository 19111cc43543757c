// GNSS of the A76xx family and the SIM7670G (A76-ATM ch. 24; GNSS AN V1.02 §5; modem-facts.md §A.9),
// and the modem GPIOs that power an active antenna (AT+CGDRT / AT+CGSETV, A76-ATM §11.2.12-13).
//
// Sources, cited below by tag:
//   [ATM]     A76XX Series AT Command Manual V1.09 §24.2.1 (CGNSSPWR), §24.2.11 (CGPSINFO),
//             §24.2.12 (CGNSSINFO), §11.2.12 (CGDRT), §11.2.13 (CGSETV)
//   [CAPTURE] the real capture in examples/SendLocationFromSMS/README.MD of Xinyuan-LilyGO/LilyGO-T-A76XX
//             (test/fixtures/transcripts/a76xx-gnss-sms-capture.log): "OK", "+CGNSSPWR: READY!" later,
//             "+CGNSSINFO: ,,,,,,,," without a fix, an 18-field line with one
//   [LG-UTIL] LilyGO utilities.h (7d8ce57), LILYGO_T_SIM7670G_S3: MODEM_GPS_ENABLE_GPIO (4), LEVEL (1)
//   [LG-7672] LilyGO's TinyGSM fork, TinyGsmClientSIM7672.h enableGPSImpl: CGDRT=<gpio>,1, CGSETV=<gpio>,1,
//             then AT+CGNSSPWR=1 waiting for a plain OK (no READY!); TinyGsmClientA76xx.h waits 30 s
//             for "+CGNSSPWR: READY!"
//   [LG-73]   Xinyuan-LilyGO/LilyGo-Modem-Series issue #73: on the A7670G "AT+CGNSSPWR=1 returns ERROR",
//             "7670G does not have GPS function" (LilyGO); GPS_BuiltIn.ino lists the -LASE/-LLSE/-LABE
//             models as without GNSS, the -FASE ones with it
//   [LG-202]  the same repository, issue #202: "+CGNSSPWR: 0,0,1" then "AT+CGNSSINFO" -> "ERROR"
//             (GNSS off); issue #327 shows the 3-field read form "+CGNSSPWR: 1,0,1" on an A7670E-FASE
//
// Variants: model SIM767x (SIM7670G) = the SIM767X firmware (modem-facts §A.9: CGNSSPWR=1 answers a
// plain OK, read form "+CGNSSPWR: <n>", CGNSSINFO in the order mode,GPS,GLONASS,GALILEO,BEIDOU,...,
// 18 fields); any other model = the A76xx (ASR) firmware: OK, then "+CGNSSPWR: READY!" readyMs later
// (about 9 s, [ATM] note 2), GNSS commands before it answer ERROR ("valid after the URC reports
// READY!" [ATM]), CGNSSINFO in the "foreign version" order mode,GPS,BEIDOU,GLONASS,GALILEO,...
// [ATM note], with the trailing field the capture shows.
//
// Options (modemOptions.gnss):
//   present     the model has GNSS (default: SIM767x and the -FASE models [LG-73])
//   antennaGpio the modem GPIO the board's active antenna hangs on, null = always powered (default 4
//               on a SIM7670G [LG-UTIL], else null). No fix ever while it is not driven high.
//   ttffMs      time to first fix once GNSS is on (ready) and the antenna powered (default 30000)
//   neverFix    no fix ever (the sky is not in view)
//   position    { lat, lon, alt } the fix reports (default the capture's)
//   readyMs     A76xx: CGNSSPWR=1 → READY! (default 9000, [ATM] "about 9 seconds")
//   garbled     the first n answers carrying a fix are damaged on the line (a digit turned into
//               another byte and fields lost), as UART noise would do

import { int } from '../common/at-parse.mjs';

const pad2 = (n) => String(n).padStart(2, '0');

export function createGnss(m) {
  const o = m.opts;
  const model = String(o.model || '');
  const sim767 = /^SIM767/.test(model);
  const g = {
    present: sim767 || /-FASE/.test(model),
    antennaGpio: /^SIM7670G/.test(model) ? 4 : null,
    ttffMs: 30000,
    neverFix: false,
    position: { lat: 22.6550274, lon: 114.0600586, alt: 83.9 }, // [CAPTURE]
    readyMs: 9000,
    garbled: 0,
    ...(o.gnss || {}),
  };
  const clockUtc = o.clockUtc ?? Date.UTC(2025, 0, 1);
  const utc = () => (typeof clockUtc === 'function' ? clockUtc(m.clock.now()) : clockUtc + m.clock.now());
  let garbleLeft = g.garbled;

  // per boot: GNSS off, GPIOs inputs at 0 [inferred: the manual gives no power-on state]
  let s;
  function reset() {
    if (s && s.report) m.clearTimer(s.report);
    s = { pwr: 0, ready: false, readyTimer: null, on: null, gpio: new Map(), antennaOn: null, report: null };
  }
  reset();

  const antennaPowered = () => g.antennaGpio == null || (s.gpio.get(g.antennaGpio) || {}).v === 1;
  // the fix comes ttffMs after GNSS is ready and the antenna is powered, whichever is later
  function fixed() {
    if (!s.ready || g.neverFix || !antennaPowered()) return false;
    const since = Math.max(s.on, g.antennaGpio == null ? 0 : s.antennaOn);
    return m.clock.now() - since >= g.ttffMs;
  }

  function infoLine() {
    if (!fixed()) return sim767 ? '+CGNSSINFO: ' + ','.repeat(17) : '+CGNSSINFO: ,,,,,,,,'; // §A.9 / [CAPTURE]
    const p = g.position;
    const d = new Date(utc());
    const date = pad2(d.getUTCDate()) + pad2(d.getUTCMonth() + 1) + pad2(d.getUTCFullYear() % 100);
    const time = pad2(d.getUTCHours()) + pad2(d.getUTCMinutes()) + pad2(d.getUTCSeconds()) + '.00';
    const svs = sim767 ? '09,03,00,05' : '09,,03,00'; // SIM767X: GPS,GLONASS,GALILEO,BEIDOU; A76xx: GPS,BEIDOU,GLONASS,GALILEO
    const f = [
      3,
      svs,
      Math.abs(p.lat).toFixed(7),
      p.lat < 0 ? 'S' : 'N',
      Math.abs(p.lon).toFixed(7),
      p.lon < 0 ? 'W' : 'E',
      date,
      time,
      p.alt.toFixed(1),
      '0.000',
      '',
      '10.83',
      '10.01',
      '4.13',
      '0',
    ].join(',');
    let line = '+CGNSSINFO: ' + f;
    if (garbleLeft > 0) {
      garbleLeft--;
      // noise: the latitude's third digit becomes another byte and the line loses its middle
      const i = line.indexOf(Math.abs(p.lat).toFixed(7)) + 2;
      line = line.slice(0, i) + '\x7f' + line.slice(i + 1, i + 8) + line.slice(i + 30);
    }
    return line;
  }

  // ddmm.mmmmmm from degrees (CGPSINFO, [ATM] §24.2.11)
  const dm = (v, w) => {
    const a = Math.abs(v);
    const d = Math.floor(a);
    return String(d).padStart(w, '0') + ((a - d) * 60).toFixed(6).padStart(9, '0');
  };

  // GNSS commands before GNSS is on and ready answer ERROR ([ATM] "valid after READY!", [LG-202])
  const usable = () => s.pwr === 1 && s.ready;

  const handlers = {
    '+CGNSSPWR'(c, r) {
      if (!g.present) return r.error(); // [LG-73]
      if (c.form === 'test') return r.info(sim767 ? '+CGNSSPWR: (0,1)' : '+CGNSSPWR: (0,1),(0,1),(0,1) ,(0,1)').ok();
      if (c.form === 'read') return r.info(sim767 ? `+CGNSSPWR: ${s.pwr}` : `+CGNSSPWR: ${s.pwr},0,1`).ok(); // §A.9, [LG-202]
      if (c.form !== 'write') return r.error();
      const v = int(c.params[0]);
      if (v !== 0 && v !== 1) return r.error();
      if (v === 0) {
        m.clearTimer(s.readyTimer);
        s.pwr = 0;
        s.ready = false;
        return r.ok();
      }
      if (s.pwr === 1) return r.ok(); // already on: nothing new happens [inferred]
      s.pwr = 1;
      s.on = m.clock.now();
      r.ok();
      if (sim767)
        s.ready = true; // plain OK, no URC (§A.9, [LG-7672])
      else
        r.then(() => {
          s.readyTimer = m.after(g.readyMs, () => {
            s.readyTimer = null;
            s.ready = true;
            s.on = m.clock.now();
            m.urc('+CGNSSPWR: READY!'); // [ATM] §24.2.1, [CAPTURE]
          });
        });
    },
    '+CGNSSINFO'(c, r) {
      if (!g.present) return r.error();
      if (c.form === 'test') return r.info('+CGNSSINFO: (0-255)').ok();
      if (!usable()) return r.error(); // [LG-202]
      if (c.form === 'read') return r.info(`+CGNSSINFO: ${s.period || 0}`).ok();
      if (c.form === 'exec') return r.info(infoLine()).ok();
      const t = int(c.params[0]);
      if (t === null || t < 0 || t > 255) return r.error();
      // write: OK, then the information every <time> s; 0 stops it ([ATM] §24.2.12)
      m.clearTimer(s.report);
      s.report = null;
      s.period = t;
      r.ok();
      const tick = () => {
        s.report = m.after(t * 1000, () => {
          if (!usable()) return;
          m.urc(infoLine());
          tick();
        });
      };
      if (t > 0) tick();
    },
    '+CGPSINFO'(c, r) {
      if (!g.present) return r.error();
      if (c.form === 'test') return r.info('+CGPSINFO: (0-255)').ok();
      if (!usable()) return r.error();
      if (c.form !== 'exec') return r.error(); // periodic form not simulated
      if (!fixed()) return r.info('+CGPSINFO: ,,,,,,,,').ok(); // "null data" (GNSS AN §5.2)
      const p = g.position;
      const d = new Date(utc());
      const date = pad2(d.getUTCDate()) + pad2(d.getUTCMonth() + 1) + pad2(d.getUTCFullYear() % 100);
      const time = pad2(d.getUTCHours()) + pad2(d.getUTCMinutes()) + pad2(d.getUTCSeconds()) + '.0';
      const f = [dm(p.lat, 2), p.lat < 0 ? 'S' : 'N', dm(p.lon, 3), p.lon < 0 ? 'W' : 'E', date, time, p.alt.toFixed(1), '0.0', '0'];
      r.info('+CGPSINFO: ' + f.join(',')).ok();
    },
    // the modem's GPIOs ([ATM] §11.2.12-13): direction first, then the level of an output
    '+CGDRT'(c, r) {
      if (c.form === 'test') return r.ok();
      if (c.form !== 'write') return r.error();
      const pin = int(c.params[0]);
      if (pin === null || pin < 0) return r.error();
      const cur = s.gpio.get(pin) || { dir: 0, v: 0 };
      if (c.params.length === 1) return r.info(`+CGDRT: ${pin},${cur.dir}`).ok();
      const dir = int(c.params[1]);
      if (dir !== 0 && dir !== 1) return r.error();
      s.gpio.set(pin, { dir, v: dir ? cur.v : 0 });
      if (pin === g.antennaGpio && !dir) s.antennaOn = null;
      r.ok();
    },
    '+CGSETV'(c, r) {
      if (c.form === 'test') return r.ok();
      if (c.form !== 'write') return r.error();
      const pin = int(c.params[0]);
      const v = int(c.params[1]);
      const cur = s.gpio.get(pin);
      // "The direction of specified GPIO must be set as OUT direction ... otherwise an error will be returned."
      if (pin === null || (v !== 0 && v !== 1) || !cur || cur.dir !== 1) return r.error();
      if (pin === g.antennaGpio && v === 1 && cur.v !== 1) s.antennaOn = m.clock.now();
      cur.v = v;
      r.ok();
    },
  };

  return {
    handlers,
    reset,
    state: () => ({ present: g.present, pwr: s.pwr, ready: s.ready, antenna: antennaPowered(), fixed: fixed() }),
  };
}
