// SIM, registration, GPRS attach, identity, the clock and a few general SIM800 commands.
// Timeline after the UART is ready [inferred; SIM800L-HW gives no figures beyond "STATUS high
// ~3 s after PWRKEY"]: SIM ready after sim.readyMs, network registration after
// network.registrationMs (both from the moment the modem is ready).
// Identity: firmware R14.18, "1418B05SIM800L24" (modem-facts.md §B.3 field reports).
//
// Clock (AT+CCLK, AT+CLTS). What real SIM800s show:
//   - After every power-on or restart the clock starts again at 2004-01-01 00:00:00 and runs:
//     `+CCLK: "04/01/01,00:41:10+00"` (vshymanskyy/TinyGSM#5), `"04/01/01,00:00:40+12"` right
//     after a CFUN=1,1 restart with CLTS=0 (TinyGSM#289; the same log on bizkit.ru 2019-05-25),
//     "resets to 04/01/01,00:00*" even with a backup battery (Civlo85/gsmHat#14).
//   - The zone of an earlier network time survives that restart (the "+12" above) [inferred from
//     those two logs: kept in `flash.tz` here].
//   - AT+CLTS=1 must be saved with AT&W to survive a restart (TinyGSM#289/#188, bizkit.ru), and
//     the time comes with the next registration (bizkit.ru: CFUN=0, CFUN=1, then *PSUTTZ).
//   - The URCs, in this order, on networks that send NITZ [log: "+CTZV: +28,0",
//     `*PSUTTZ: 2022,9,14,4,55,19,"+28",0`, "DST: 0", `+CIEV: 10,"45202","VinaPhone","", 0, 0`
//     (a VinaPhone capture); the same four with "+4" on Orange F (two captures, 2020 and 2021)]:
//       +CTZV: <±tz>,<dst>            zone in quarter hours, sign, no zero padding
//       *PSUTTZ: <yyyy>,<M>,<d>,<h>,<m>,<s>,"<±tz>",<dst>   UTC, fields not zero-padded
//       DST: <dst>
//       +CIEV: 10,"<mccmnc>","<long name>","<short name>", 0, 0   (undocumented)
//     and on some networks/firmware *PSNWID: "<mcc>","<mnc>", "<long>", 0, "<short>", 0
//     (SIM800 AT manual V1.09 p.351 URC table; `*PSNWID: "214","03", "Orange", 0, "Orange", 0`
//     in a driver's comment). network.nitzUrcs chooses which appear. Some networks send fewer
//     (bizkit.ru: *PSUTTZ and DST only; a 2024 Orange PL capture: *PSUTTZ, DST, +CIEV).
//   - +CCLK? then shows local time = UTC + zone: *PSUTTZ 21:07:29 "+4" → "17/01/22,22:07:47+04";
//     *PSUTTZ 18:46:18 "+12" → "19/05/25,21:50:06+12" a few minutes later (bizkit.ru).
//   - `+CCLK: "yy/MM/dd,hh:mm:ss±zz"`, zone zero-padded to two digits (3GPP 27.007 §8.15).
// [inferred]: the NITZ URCs come network.nitzDelayMs (1 s) after the registration; CLTS=0 or
// network.nitz = false: no URCs and the clock stays where it is; AT+CLTS=? "+CLTS: (0,1)";
// AT+CCLK=? OK; AT+CCLK="…" takes local time and a zone of -47..+48 (a bad one: ERROR); the
// clock it sets is lost at the next restart like the network time; AT&F sets CLTS to 0 and ATZ
// restores the saved value (V.25ter profile semantics).

import { int, str } from '../common/at-parse.mjs';

const RTC_START = Date.UTC(2004, 0, 1); // "04/01/01,00:00:00", local time
const pad2 = (n) => String(n).padStart(2, '0');

export function createNetwork(m) {
  const o = m.opts;
  const net = { registrationMs: 3000, regStat: 1, operator: '23801', rssi: 20, ber: 0, ip: '10.78.245.128', ...(o.network || {}) };
  const sim = { readyMs: 1500, ...(o.sim || {}) };
  const nitz = {
    nitz: true, // false: the network sends no time (many SIM800 networks don't)
    tz: 0, // the network's zone in quarter hours (DST included)
    dst: 0,
    nitzDelayMs: 1000,
    nitzUrcs: ['+CTZV', '*PSUTTZ', 'DST', '+CIEV'], // '*PSNWID' on some networks
    operatorName: 'TDC', // long and short name for +CIEV / *PSNWID [placeholder]
    ...net,
  };
  // the network's UTC: ms since 1970 at virtual time 0, or a function of virtual time (as A76xx)
  const clockUtc = o.clockUtc ?? Date.UTC(2025, 0, 1);
  const networkUtc = () => (typeof clockUtc === 'function' ? clockUtc(m.clock.now()) : clockUtc + m.clock.now());
  const revision = o.revision || '1418B05SIM800L24';
  const imei = o.imei || '864000000000000';
  // Coverage is the world's, not the modem's (faults: loseNetwork/restoreNetwork); it survives
  // restarts. Without it registration stays at 2 (searching).
  let coverage = true;
  let s;
  function reset() {
    if (s && s.regTimer != null) m.clearTimer(s.regTimer);
    s = {
      simReady: false,
      stat: 0,
      cregN: 0,
      cgatt: 0,
      cfun: 1,
      regTimer: null,
      clts: m.flash.clts ?? 0, // the &W profile
      // the RTC restarts at 04/01/01,00:00:00 on every power-up, in the last known zone
      rtc: { local: RTC_START, at: m.clock.now() },
      tz: m.flash.tz ?? 0,
    };
  }
  reset();

  const rtcLocal = () => s.rtc.local + (m.clock.now() - s.rtc.at);
  function setClock(local, tz) {
    s.rtc = { local, at: m.clock.now() };
    s.tz = tz;
    m.flash.tz = tz;
  }
  const cclkString = () => {
    const d = new Date(rtcLocal());
    const z = s.tz;
    return `${pad2(d.getUTCFullYear() % 100)}/${pad2(d.getUTCMonth() + 1)}/${pad2(d.getUTCDate())},${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}${z < 0 ? '-' : '+'}${pad2(Math.abs(z))}`;
  };
  const signed = (n) => (n < 0 ? `${n}` : `+${n}`);

  // Network time after a registration, when CLTS=1 and the network sends it.
  function networkTime() {
    if (!nitz.nitz || s.clts !== 1) return;
    m.after(nitz.nitzDelayMs, () => {
      if (!(s.stat === 1 || s.stat === 5) || s.clts !== 1) return;
      const utc = networkUtc();
      const d = new Date(utc);
      const tz = nitz.tz;
      setClock(utc + tz * 15 * 60000, tz);
      const op = String(nitz.operator);
      const lines = {
        '+CTZV': `+CTZV: ${signed(tz)},${nitz.dst}`,
        '*PSUTTZ': `*PSUTTZ: ${d.getUTCFullYear()},${d.getUTCMonth() + 1},${d.getUTCDate()},${d.getUTCHours()},${d.getUTCMinutes()},${d.getUTCSeconds()},"${signed(tz)}",${nitz.dst}`,
        DST: `DST: ${nitz.dst}`,
        '+CIEV': `+CIEV: 10,"${op}","${nitz.operatorName}","${nitz.operatorName}", 0, 0`,
        '*PSNWID': `*PSNWID: "${op.slice(0, 3)}","${op.slice(3)}", "${nitz.operatorName}", 0, "${nitz.operatorName}", 0`,
      };
      for (const k of nitz.nitzUrcs) if (lines[k]) m.urc(lines[k]);
      m.stateChanged();
    });
  }

  function setStat(stat) {
    if (s.stat === stat) return;
    s.stat = stat;
    s.cgatt = stat === 1 || stat === 5 ? 1 : 0;
    if (s.cregN === 1) m.urc(`+CREG: ${stat}`);
    else if (s.cregN === 2) m.urc(stat === 1 || stat === 5 ? `+CREG: ${stat},"1BBC","A80E"` : `+CREG: ${stat}`);
    m.stateChanged();
  }
  function stopSearch() {
    if (s.regTimer != null) m.clearTimer(s.regTimer);
    s.regTimer = null;
    if (s.endRegOp) s.endRegOp();
    s.endRegOp = null;
  }
  function startRegistration() {
    stopSearch();
    if (!s.simReady || s.cfun !== 1) return;
    setStat(2);
    if (!coverage) return; // no cell to find: searching until coverage returns [inferred]
    s.endRegOp = m.beginOp(); // network search is the modem's own work (not idle)
    s.regTimer = m.after(net.registrationMs, () => {
      s.regTimer = null;
      stopSearch();
      setStat(net.regStat);
      if (s.stat === 1 || s.stat === 5) networkTime();
    });
  }

  function onReady() {
    const doneSim = m.beginOp();
    m.after(sim.readyMs, () => {
      s.simReady = true;
      doneSim();
      m.bannerPhase('sim');
      startRegistration();
    });
  }

  const handlers = {
    '+CPIN'(c, b) {
      if (c.form === 'test') return b.ok();
      if (c.form !== 'read') return b.error();
      if (!s.simReady) return b.cme(14); // SIM busy [inferred]
      b.info('+CPIN: READY').ok();
    },
    '+CSQ'(c, b) {
      if (c.form === 'test') return b.info('+CSQ: (0-31,99),(0-7,99)').ok();
      if (c.form !== 'exec') return b.error();
      b.info(`+CSQ: ${s.stat === 1 || s.stat === 5 ? net.rssi : 99},${net.ber}`).ok();
    },
    '+CREG'(c, b) {
      if (c.form === 'test') return b.info('+CREG: (0-2)').ok();
      if (c.form === 'read') {
        const reg = s.stat === 1 || s.stat === 5;
        return b.info(s.cregN === 2 && reg ? `+CREG: 2,${s.stat},"1BBC","A80E"` : `+CREG: ${s.cregN},${s.stat}`).ok();
      }
      const n = int(c.params[0]);
      if (c.form !== 'write' || n == null || n < 0 || n > 2) return b.error();
      s.cregN = n;
      b.ok();
    },
    '+CGATT'(c, b) {
      if (c.form === 'test') return b.info('+CGATT: (0,1)').ok();
      if (c.form === 'read') return b.info(`+CGATT: ${s.cgatt}`).ok();
      const n = int(c.params[0]);
      if (c.form !== 'write' || (n !== 0 && n !== 1)) return b.error();
      if (n === 1 && !(s.stat === 1 || s.stat === 5)) return b.error();
      s.cgatt = n;
      if (n === 0) m.networkLost();
      b.ok();
    },
    '+CFUN'(c, b) {
      if (c.form === 'read') return b.info(`+CFUN: ${s.cfun}`).ok();
      if (c.form === 'test') return b.info('+CFUN: (0,1,4),(0,1)').ok();
      const n = int(c.params[0]);
      if (c.form !== 'write' || ![0, 1, 4].includes(n)) return b.error();
      s.cfun = n;
      if (n !== 1) {
        setStat(0);
        m.networkLost();
      } else if (s.simReady && s.stat === 0) startRegistration();
      b.ok();
    },
    '+COPS'(c, b) {
      if (c.form === 'read') return b.info(s.stat === 1 || s.stat === 5 ? `+COPS: 0,2,"${net.operator}"` : '+COPS: 0').ok();
      b.ok();
    },
    '+GSN': (c, b) => b.info(imei).ok(),
    '+CGSN': (c, b) => b.info(imei).ok(),
    '+GMR': (c, b) => b.info(`Revision:${revision}`).ok(),
    '+CGMR': (c, b) => b.info(`Revision:${revision}`).ok(),
    '+CIMI': (c, b) => (s.simReady ? b.info(o.imsi || '238010000000000').ok() : b.error()),
    '+CCID': (c, b) => (s.simReady ? b.info(o.iccid || '8945000000000000000').ok() : b.error()),
    '+CLTS'(c, b) {
      if (c.form === 'test') return b.info('+CLTS: (0,1)').ok();
      if (c.form === 'read') return b.info(`+CLTS: ${s.clts}`).ok();
      const n = int(c.params[0]);
      if (c.form === 'write' && (n === 0 || n === 1)) {
        s.clts = n;
        return b.ok();
      }
      b.error();
    },
    '+CCLK'(c, b) {
      if (c.form === 'test') return b.ok();
      if (c.form === 'read') return b.info(`+CCLK: "${cclkString()}"`).ok();
      const v = c.form === 'write' && /^(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d\d)$/.exec(str(c.params[0]) || '');
      if (!v) return b.error();
      const [yy, mo, dd, hh, mi, ss, z] = v.slice(1).map(Number);
      const local = Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss);
      const d = new Date(local);
      if (d.getUTCMonth() !== mo - 1 || d.getUTCDate() !== dd || hh > 23 || mi > 59 || ss > 59 || z < -47 || z > 48) return b.error();
      setClock(local, z);
      b.ok();
    },
    '+CBC'(c, b) {
      const v = typeof o.battery === 'function' ? o.battery() : o.battery || { percent: 80, mV: 3950 };
      b.info(`+CBC: 0,${v.percent},${v.mV}`).ok();
    },
    '+CSCLK'(c, b) {
      const n = int(c.params[0]);
      if (c.form === 'read') return b.info(`+CSCLK: ${s.csclk || 0}`).ok();
      if (c.form === 'write' && n >= 0 && n <= 2) {
        s.csclk = n; // what it does: ../common/sleep.mjs
        b.ok();
        if (m.lowPowerActivity) m.lowPowerActivity();
        return;
      }
      b.error();
    },
  };

  return {
    handlers,
    reset,
    onReady,
    startRegistration,
    /** registration lost (faults): stat 0 not searching, 2 searching, 3 denied */
    deregister(stat = 0) {
      stopSearch();
      setStat(stat);
    },
    setCoverage(on) {
      coverage = !!on;
    },
    registered: () => s.stat === 1 || s.stat === 5,
    ident: () => [`SIM800 R14.18`],
    ip: () => net.ip,
    state: () => ({ simReady: s.simReady, stat: s.stat, cgatt: s.cgatt, cfun: s.cfun, clts: s.clts, cclk: cclkString(), csclk: s.csclk || 0 }),
    /** AT&W: the settings of this module that the profile keeps */
    saveProfile() {
      m.flash.clts = s.clts;
    },
    /** AT&F (factory, 0) and ATZ (the saved profile) */
    factoryProfile() {
      s.clts = 0;
    },
    restoreProfile() {
      s.clts = m.flash.clts ?? 0;
    },
    net,
    str,
  };
}
