// SIM, registration, GPRS attach, identity and a few general SIM800 commands.
// Timeline after the UART is ready [inferred; SIM800L-HW gives no figures beyond "STATUS high
// ~3 s after PWRKEY"]: SIM ready after sim.readyMs, network registration after
// network.registrationMs (both from the moment the modem is ready).
// Identity: firmware R14.18, "1418B05SIM800L24" (modem-facts.md §B.3 field reports).

import { int, str } from '../a76xx/at-parse.mjs';

export function createNetwork(m) {
  const o = m.opts;
  const net = { registrationMs: 3000, regStat: 1, operator: '23801', rssi: 20, ber: 0, ip: '10.78.245.128', ...(o.network || {}) };
  const sim = { readyMs: 1500, ...(o.sim || {}) };
  const revision = o.revision || '1418B05SIM800L24';
  const imei = o.imei || '864000000000000';
  let s;
  function reset() {
    if (s && s.regTimer != null) m.clearTimer(s.regTimer);
    s = { simReady: false, stat: 0, cregN: 0, cgatt: 0, cfun: 1, regTimer: null, clts: 0 };
  }
  reset();

  function setStat(stat) {
    if (s.stat === stat) return;
    s.stat = stat;
    s.cgatt = stat === 1 || stat === 5 ? 1 : 0;
    if (s.cregN === 1) m.urc(`+CREG: ${stat}`);
    else if (s.cregN === 2) m.urc(stat === 1 || stat === 5 ? `+CREG: ${stat},"1BBC","A80E"` : `+CREG: ${stat}`);
    m.stateChanged();
  }
  function startRegistration() {
    if (s.regTimer != null) m.clearTimer(s.regTimer);
    setStat(2);
    const done = m.beginOp(); // network search is the modem's own work (not idle)
    s.regTimer = m.after(net.registrationMs, () => {
      s.regTimer = null;
      done();
      setStat(net.regStat);
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
      if (c.form === 'read') return b.info(`+CLTS: ${s.clts}`).ok();
      const n = int(c.params[0]);
      if (c.form === 'write' && (n === 0 || n === 1)) {
        s.clts = n;
        return b.ok();
      }
      b.error();
    },
    '+CBC'(c, b) {
      const v = typeof o.battery === 'function' ? o.battery() : o.battery || { percent: 80, mV: 3950 };
      b.info(`+CBC: 0,${v.percent},${v.mV}`).ok();
    },
    '+CSCLK'(c, b) {
      const n = int(c.params[0]);
      if (c.form === 'read') return b.info(`+CSCLK: ${s.csclk || 0}`).ok();
      if (c.form === 'write' && n >= 0 && n <= 2) {
        s.csclk = n;
        return b.ok();
      }
      b.error();
    },
  };

  return {
    handlers,
    reset,
    onReady,
    startRegistration,
    deregister: () => setStat(0),
    registered: () => s.stat === 1 || s.stat === 5,
    ident: () => [`SIM800 R14.18`],
    ip: () => net.ip,
    state: () => ({ simReady: s.simReady, stat: s.stat, cgatt: s.cgatt, cfun: s.cfun }),
    net,
    str,
  };
}
