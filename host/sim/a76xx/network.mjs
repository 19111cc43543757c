// SIM, registration, PDP, time and identity commands (A76-ATM ch. 2-6, 14, 15; modem-facts.md
// §A.3). Timeline after *ATREADY: the SIM becomes ready after sim.readyMs (before that
// AT+CPIN? gives +CME ERROR: 13 [LG-AZ-LOG]), then registration completes after
// network.registrationMs.

import { int, str } from '../common/at-parse.mjs';

const REV = [
  // [model prefix, revision, build line] from the real captures
  ['A7670', 'A124B01A7670M7', 'A7670M7_B01V01_240722'], // LG-AZ-LOG
  ['SIM7670', '2374B02SIM767XM5A_M', 'SIM767XM5_B02V01_240717'], // sim7670g-azure-field b
];

const pad2 = (n) => String(n).padStart(2, '0');

export function createNetwork(m) {
  const o = m.opts;
  const net = {
    registrationMs: 3000,
    regStat: 1,
    operator: '23801',
    rssi: 20,
    ber: 99,
    cpsi: 'LTE,Online,238-01,0x1BBC,11013732,271,EUTRAN-BAND1,300,5,5,-10,-107,-96,9', // field log b
    lac: '1BBC',
    ci: 'A80E64',
    ip: '10.4.112.219', // LG-AZ-LOG
    tz: 0, // NITZ zone, quarter hours
    netOpenMs: 500,
    ntpMs: 1000,
    // The radio access technology registered on. 'LTE' (what the A7670/SIM7670G camp on where
    // there is coverage; the captures' CPSI say LTE) or 'GSM' (their 2G fallback).
    rat: 'LTE',
    // The APN the network gives internet through; null = any APN works (most SIMs: the network
    // assigns its default). A SIM whose data needs one APN gets a bearer on any other that
    // carries nothing [inferred: an LTE attach with an APN the network does not route].
    dataApn: null,
    ...(o.network || {}),
  };
  if (net.eregStat == null) net.eregStat = net.regStat;
  if (net.gregStat == null) net.gregStat = net.eregStat;
  const sim = { readyMs: 2000, earlyError: 13, ...(o.sim || {}) };
  const clockUtc = o.clockUtc ?? Date.UTC(2025, 0, 1);
  const networkUtc = () => (typeof clockUtc === 'function' ? clockUtc(m.clock.now()) : clockUtc + m.clock.now());

  const model = o.model;
  const rev = (() => {
    if (o.revision && typeof o.revision === 'object') return [o.revision.revision, o.revision.build];
    const known = REV.find(([p]) => model.startsWith(p)) || REV[0];
    return o.revision ? [o.revision, null] : [known[1], known[2]];
  })();
  const imei = o.imei || '869951000000000';
  const imsi = o.imsi || '238010000000000';

  // Coverage is the world's, not the modem's: it survives reboots. Without it a registration
  // attempt (boot, CFUN=1, restoreNetwork) stays at "searching" (stat 2) until coverage returns.
  let coverage = true;

  // per-boot state
  let s;
  function reset() {
    s = {
      simReady: false,
      cfun: 1,
      stat: { CREG: 0, CGREG: 0, CEREG: 0 },
      n: { CREG: 0, CGREG: 0, CEREG: 0 },
      netOpen: false,
      netOpening: false,
      ntp: { host: '', tz: 32 }, // default tz 32 (= UTC+8), A76-ATM §14.2.3
      tz: null, // CCLK zone; "timezone not save" (§3.2.10), invalid until set
      ipr: m.flash.iprex,
      csclk: 0, // NO_SAVE, default 0 (modem-facts §A.8)
      regTimer: null,
      // LTE: the default bearer (cid 1) comes up with the attach, with the APN stored for cid 1
      // at that moment; CGDCONT written later changes what the next attach uses, not this one.
      bearerApn: null,
      detached: false, // AT+CGATT=0: no packet-domain attach until AT+CGATT=1
    };
  }
  reset();

  // The RTC keeps running across reboots (CCLK is AUTO_SAVE); rtcUtc() is its UTC reading.
  const rtc = m.flash.rtc;
  const rtcUtc = () => rtc.base + (m.clock.now() - rtc.at);
  const setRtc = (utc) => {
    rtc.base = utc;
    rtc.at = m.clock.now();
  };

  const attached = () => [1, 5].includes(s.stat.CEREG) || [1, 5].includes(s.stat.CGREG);
  // data reaches the internet: attached, and the bearer's APN is one the network routes
  const dataReady = () => attached() && (net.dataApn == null || (s.bearerApn || '').toLowerCase() === net.dataApn.toLowerCase());

  function setStat(CREG, CGREG, CEREG) {
    const next = { CREG, CGREG, CEREG };
    for (const k of ['CREG', 'CGREG', 'CEREG']) {
      if (s.stat[k] === next[k]) continue;
      s.stat[k] = next[k];
      if (s.n[k] >= 1) m.urc(`+${k}: ${urcBody(k)}`); // 27.007 URC form (§4.2.1)
    }
    m.stateChanged();
  }
  const registered = (st) => st === 1 || st === 5;
  const loc = (k) => (k === 'CEREG' ? `"${net.lac}","${net.ci}",7` : `"${net.lac}","${net.ci}"`);
  const urcBody = (k) => (s.n[k] === 2 && registered(s.stat[k]) ? `${s.stat[k]},${loc(k)}` : `${s.stat[k]}`);
  const readBody = (k) => (s.n[k] === 2 && registered(s.stat[k]) ? `${s.n[k]},${s.stat[k]},${loc(k)}` : `${s.n[k]},${s.stat[k]}`);

  // While the SIM starts and the modem searches for a network the modem is busy on its own:
  // nothing the host sends would make it faster, so the benchmark's "time lost waiting on the
  // host" (stats.idleGapMs) must not count it. beginOp() marks that.
  function endRegistrationOp() {
    if (s.endRegOp) s.endRegOp();
    s.endRegOp = null;
  }

  function startRegistration() {
    if (s.regTimer) m.clearTimer(s.regTimer);
    endRegistrationOp();
    if (!s.simReady || s.cfun !== 1) return;
    if (s.detached) setStat(2, 0, 0);
    else setStat(2, 2, 2); // searching
    if (!coverage) return; // no cell to find: searching until setCoverage(true) [inferred]
    // the attach request carries the default bearer's APN: the one stored for cid 1 now, when the
    // search starts (the SIM just became ready, or CFUN=1 / CGATT=1), not when it completes
    const apn = (m.flash.cgdcont.get(1) || { apn: '' }).apn;
    s.endRegOp = m.beginOp();
    s.regTimer = m.after(net.registrationMs, () => {
      s.regTimer = null;
      endRegistrationOp();
      if (s.detached)
        setStat(net.regStat, 0, 0); // CS only: the packet domain stays detached
      else setStat(net.regStat, net.gregStat, net.eregStat);
      if (attached()) {
        s.bearerApn = apn;
        m.bannerPhase('registered'); // +CGEV: EPS PDN ACT 1 ... [LG-AZ-LOG]
        if (m.flash.ctzu === 1) {
          // NITZ with CTZU=1: time and zone from the network (§4.2.12)
          setRtc(networkUtc());
          s.tz = net.tz;
        }
      }
    });
  }

  /** Not registered (stat) any more; creg: what CREG shows meanwhile (a PS detach keeps CS). */
  function deregister(stat = 0, creg = stat) {
    if (s.regTimer) m.clearTimer(s.regTimer);
    s.regTimer = null;
    endRegistrationOp();
    s.bearerApn = null;
    setStat(creg, stat, stat);
    if (s.netOpen) {
      s.netOpen = false;
      m.urc('+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY'); // modem-facts §A.3 NETOPEN row
    }
  }

  function onReady() {
    const endSimOp = m.beginOp();
    m.after(sim.readyMs, () => {
      endSimOp();
      s.simReady = true;
      m.bannerPhase('sim');
      m.stateChanged();
      startRegistration();
    });
  }

  function cclkString() {
    const z = s.tz;
    const d = new Date(rtcUtc() + (z ?? 0) * 15 * 60000);
    const base = `${pad2(d.getUTCFullYear() % 100)}/${pad2(d.getUTCMonth() + 1)}/${pad2(d.getUTCDate())},${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
    if (z === null) return base; // "+CCLK? will return time zone when time zone is valid" (§3.2.10)
    return base + (z < 0 ? '-' : '+') + pad2(Math.abs(z));
  }

  const regCmd = (k) => (c, r) => {
    if (c.form === 'test') return r.info(`+${k}: (0-2)`).ok();
    if (c.form === 'read') return r.info(`+${k}: ${readBody(k)}`).ok();
    if (c.form === 'exec') {
      s.n[k] = 0;
      return r.ok();
    }
    const n = int(c.params[0]);
    if (c.params.length !== 1 || n === null || n < 0 || n > 2) return r.cme(50);
    s.n[k] = n;
    r.ok();
  };

  const ident = () => ['Manufacturer: SIMCOM INCORPORATED', `Model: ${model}`, `Revision: ${rev[0]}`, ...(rev[1] ? [rev[1]] : []), `IMEI: ${imei}`];

  const handlers = {
    '+CPIN'(c, r) {
      if (c.form === 'test') return r.ok();
      if (!s.simReady) return r.cme(sim.earlyError); // [LG-AZ-LOG] +CME ERROR: 13
      if (c.form === 'read') return r.info('+CPIN: READY').ok();
      return r.cme(3); // no PIN needed: operation not allowed [inferred]
    },
    '+CSQ'(c, r) {
      if (c.form === 'test') return r.info('+CSQ: (0-31,99),(0-7,99)').ok();
      if (c.form !== 'exec') return r.error();
      const live = coverage && s.simReady && s.cfun === 1 && s.stat.CEREG !== 0;
      r.info(`+CSQ: ${live ? net.rssi : 99},${live ? net.ber : 99}`).ok();
    },
    '+CREG': regCmd('CREG'),
    '+CGREG': regCmd('CGREG'),
    '+CEREG': regCmd('CEREG'),
    '+CPSI'(c, r) {
      if (c.form !== 'read') return c.form === 'test' ? r.ok() : r.error();
      r.info(`+CPSI: ${registered(s.stat.CEREG) || registered(s.stat.CREG) ? net.cpsi : 'NO SERVICE,Online'}`).ok();
    },
    '+COPS'(c, r) {
      if (c.form === 'read') return r.info(registered(s.stat.CREG) || registered(s.stat.CEREG) ? `+COPS: 0,2,"${net.operator}",7` : '+COPS: 0').ok();
      if (c.form === 'write') return r.ok();
      return r.error();
    },
    '+CGDCONT'(c, r) {
      const ctx = m.flash.cgdcont; // auto-saved (modem-facts §A.3)
      if (c.form === 'test') return r.info('+CGDCONT: (1-15),"IP",,,(0-2),(0-4),(0-1),(0-1)').ok();
      if (c.form === 'read') return r.info(...[...ctx.keys()].sort((a, b) => a - b).map((k) => `+CGDCONT: ${k},"${ctx.get(k).type}","${ctx.get(k).apn}"`)).ok();
      if (c.form !== 'write') return r.error();
      const cid = int(c.params[0]);
      if (cid === null || cid < 1 || cid > 15) return r.cme(50);
      if (c.params.length === 1) {
        ctx.delete(cid);
        return r.ok();
      }
      ctx.set(cid, { type: str(c.params[1]) || 'IP', apn: str(c.params[2]) || '' });
      r.ok();
    },
    '+CGACT'(c, r) {
      if (c.form === 'read') {
        const cids = [...m.flash.cgdcont.keys()].sort((a, b) => a - b);
        return r.info(...cids.map((k) => `+CGACT: ${k},${attached() && k === 1 ? 1 : 0}`)).ok();
      }
      if (c.form !== 'write') return c.form === 'test' ? r.info('+CGACT: (0,1)').ok() : r.error();
      const st = int(c.params[0]);
      const cid = c.params.length > 1 ? int(c.params[1]) : null;
      if (st === null || st < 0 || st > 1) return r.cme(50);
      // "NOTE: In LTE mode, it's prohibited to active or deactive default bearer(cid 1) and
      // dedicated beaeer(cid 8)." (A76XX AT manual §5.2.4); the write form's failure shapes
      // are OK / ERROR / +CME ERROR: <err>, and the manual names no code for this: ERROR.
      // But field log a (a SIM7670G on LTE) shows AT+CGACT=1,1 -> OK while the bearer is up:
      // activating the active default bearer is a harmless no-op; deactivating it is refused.
      if (net.rat === 'LTE' && (cid === 1 || cid === 8 || cid === null) && !(st === 1 && cid === 1 && attached())) return r.error();
      if (st === 1 && !attached()) return r.cme(30);
      r.ok();
    },
    '+CGATT'(c, r) {
      if (c.form === 'read') return r.info(`+CGATT: ${attached() ? 1 : 0}`).ok();
      if (c.form !== 'write') return c.form === 'test' ? r.info('+CGATT: (0,1)').ok() : r.error();
      // "The write command is used to attach the MT to, or detach the MT from, the Packet Domain
      // service." (§5.2.3). Detach: the bearers go with it ("+CGEV: ME DETACH ... all active
      // contexts have been deactivated", §5.2.15) and the MQTT stack loses its network; attach:
      // a new attach, which brings the default bearer up with the APN stored for cid 1 now.
      const st = int(c.params[0]);
      if (c.params.length !== 1 || st === null || st < 0 || st > 1) return r.cme(50);
      r.ok();
      r.then(() => {
        if (st === 0) {
          if (s.detached) return;
          s.detached = true;
          const wasAttached = attached();
          if (wasAttached) m.urc('+CGEV: ME DETACH');
          deregister(0, s.stat.CREG);
          if (wasAttached) m.networkLost();
        } else if (s.detached) {
          s.detached = false;
          startRegistration();
        }
      });
    },
    '+CGPADDR'(c, r) {
      if (c.form === 'test') return r.ok();
      const cid = c.form === 'write' ? int(c.params[0]) : 1;
      r.info(`+CGPADDR: ${cid},${attached() ? net.ip : '0.0.0.0'}`).ok(); // field log a
    },
    '+CDNSCFG'(c, r) {
      r.ok(); // field log a: AT+CDNSCFG="8.8.8.8","8.8.4.4" -> OK (names resolve through options.dns)
    },
    '+NETOPEN'(c, r) {
      if (c.form === 'read') return r.info(`+NETOPEN: ${s.netOpen ? 1 : 0}`).ok();
      if (c.form !== 'exec') return r.error();
      if (s.netOpen || s.netOpening) return r.info('+IP ERROR: Network is already opened').error(); // §A.3
      s.netOpening = true;
      const end = m.beginOp('NETOPEN');
      r.ok();
      m.after(net.netOpenMs, () => {
        s.netOpening = false;
        end();
        if (!dataReady()) return m.urc('+NETOPEN: 1'); // 1 = network failure
        s.netOpen = true;
        m.urc('+NETOPEN: 0');
      });
    },
    '+NETCLOSE'(c, r) {
      if (c.form !== 'exec') return r.error();
      if (!s.netOpen) return r.info('+NETCLOSE: 2').error(); // 2 = network not opened [inferred shape]
      s.netOpen = false;
      const end = m.beginOp('NETCLOSE');
      r.ok();
      m.after(200, () => {
        end();
        m.urc('+NETCLOSE: 0');
      });
    },
    '+IPADDR'(c, r) {
      if (c.form !== 'exec') return r.error();
      if (!s.netOpen) return r.info('+IPADDR: Network not opened').error(); // [inferred]
      r.info(`+IPADDR: ${net.ip}`).ok();
    },
    '+CNTP'(c, r) {
      if (c.form === 'test') return r.info('+CNTP: "HOST",(-96~96)').ok();
      if (c.form === 'read') return r.info(`+CNTP: "${s.ntp.host}",${s.ntp.tz}`).ok();
      if (c.form === 'write') {
        const host = str(c.params[0]);
        const tz = c.params.length > 1 ? int(c.params[1]) : 32;
        if (host === null || host.length > 255 || tz === null || tz < -96 || tz > 96 || c.params.length > 2) return r.error();
        s.ntp = { host, tz };
        return r.ok();
      }
      if (!s.ntp.host) return r.error(); // [inferred]: nothing to ask
      const end = m.beginOp('CNTP');
      r.ok();
      m.after(net.ntpMs, () => {
        end();
        if (!dataReady()) return m.urc('+CNTP: 4'); // 4 network error (§14.3)
        setRtc(networkUtc());
        s.tz = s.ntp.tz; // the local time follows the CNTP zone, default 32 = UTC+8
        m.urc('+CNTP: 0');
      });
    },
    '+CCLK'(c, r) {
      if (c.form === 'test') return r.ok();
      if (c.form === 'read') return r.info(`+CCLK: "${cclkString()}"`).ok();
      if (c.form !== 'write') return r.error();
      const v = /^(\d\d)\/(\d\d)\/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d\d)$/.exec(str(c.params[0]) || '');
      if (!v) return r.cme(50);
      const z = Number(v[7]);
      if (z < -96 || z > 96) return r.cme(50);
      const local = Date.UTC(2000 + Number(v[1]), Number(v[2]) - 1, Number(v[3]), Number(v[4]), Number(v[5]), Number(v[6]));
      setRtc(local - z * 15 * 60000);
      s.tz = z;
      r.ok();
    },
    '+CTZU'(c, r) {
      if (c.form === 'test') return r.info('+CTZU: (0-1)').ok();
      if (c.form === 'read') return r.info(`+CTZU: ${m.flash.ctzu}`).ok();
      const v = int(c.params[0]);
      if (c.form !== 'write' || v === null || v < 0 || v > 1) return r.cme(50);
      m.flash.ctzu = v; // non-volatile, factory value 0 (§4.2.12)
      r.ok();
    },
    '+CFUN'(c, r) {
      if (c.form === 'test') return r.info('+CFUN: (0-1,4-8),(0-1)').ok();
      if (c.form === 'read') return r.info(`+CFUN: ${s.cfun}`).ok();
      if (c.form !== 'write') return r.error();
      const fun = int(c.params[0]);
      const rst = c.params.length > 1 ? int(c.params[1]) : 0;
      if (fun === null || ![0, 1, 4, 5, 6, 7, 8].includes(fun) || rst === null || rst < 0 || rst > 1) return r.cme(50);
      if (fun === 6) {
        if (s.cfun !== 7) return r.cme(3); // "AT+CFUN=6 must be used after setting AT+CFUN=7" (§3.2.1)
        r.ok();
        return r.then(() => m.reboot('CFUN=6'));
      }
      if (fun === 1 && rst === 1) {
        r.ok();
        return r.then(() => m.reboot('CFUN=1,1'));
      }
      r.ok();
      r.then(() => {
        const prev = s.cfun;
        s.cfun = fun;
        if (fun === 1 && prev !== 1) startRegistration();
        else if ([0, 4, 7].includes(fun) && prev === 1) {
          if (attached()) m.urc('+CGEV: ME DETACH'); // A76-ATM §27.2.1 example: "AT+CFUN=0 / +SIMCARD: NOT AVAILABLE / +CGEV: ME DETACH / OK"
          deregister(0);
          m.networkLost();
        }
      });
    },
    '+CRESET'(c, r) {
      if (c.form !== 'exec') return r.error();
      r.ok();
      r.then(() => m.reboot('CRESET')); // "OK, then the module reboots" (§3.2.6)
    },
    '+CPOF'(c, r) {
      if (c.form !== 'exec') return r.error();
      r.ok();
      r.then(() => m.powerDown('CPOF'));
    },
    '+CICCID'(c, r) {
      if (c.form === 'test') return r.ok();
      if (!s.simReady) return r.cme(sim.earlyError); // A76-ATM §6.2.1: +CME ERROR without a SIM
      r.info(`+ICCID: ${o.iccid || '89860000000000000000'}`).ok();
    },
    '+SIMCOMATI'(c, r) {
      r.info(...ident()).ok(); // LG-AZ-LOG
    },
    '+CGMR'(c, r) {
      if (c.form === 'test') return r.ok();
      r.info(`+CGMR: ${rev[0]}`).ok(); // §2.2.18
    },
    '+CGMI'(c, r) {
      r.info('SIMCOM INCORPORATED').ok();
    },
    '+CGMM'(c, r) {
      r.info(model).ok();
    },
    '+CGSN'(c, r) {
      r.info(imei).ok();
    },
    '+CIMI'(c, r) {
      if (!s.simReady) return r.cme(sim.earlyError);
      r.info(imsi).ok(); // field log a
    },
    '+IPR'(c, r) {
      if (c.form === 'read') return r.info(`+IPR: ${s.ipr}`).ok();
      if (c.form === 'test') return r.info('+IPR: (0,300,600,1200,2400,4800,9600,19200,38400,57600,115200,230400,460800,921600,1843200,3686400)').ok();
      const b = int(c.params[0]);
      if (c.form !== 'write' || b === null || (b !== 0 && (b < 300 || b > 3686400))) return r.error();
      r.ok();
      r.then(() => (s.ipr = b)); // takes effect after the OK (modem-facts §A.2)
    },
    '+IPREX'(c, r) {
      if (c.form === 'read') return r.info(`+IPREX: ${m.flash.iprex}`).ok();
      if (c.form === 'test') return r.ok();
      const b = int(c.params[0]);
      if (c.form !== 'write' || b === null || (b !== 0 && (b < 300 || b > 3686400))) return r.error();
      r.ok();
      r.then(() => {
        s.ipr = b;
        m.flash.iprex = b; // permanent
      });
    },
    '+CSCLK'(c, r) {
      if (c.form === 'read') return r.info(`+CSCLK: ${s.csclk}`).ok();
      if (c.form === 'test') return r.info('+CSCLK: (0-2)').ok();
      const v = int(c.params[0]);
      if (c.form !== 'write' || v === null || v < 0 || v > 2) return r.error();
      s.csclk = v; // what it does: ../common/sleep.mjs
      r.ok();
      if (m.lowPowerActivity) m.lowPowerActivity();
    },
  };

  return {
    handlers,
    ident,
    reset,
    onReady,
    dataReady,
    deregister,
    startRegistration,
    /**
     * +CGEV events from the network (A76-ATM §5.2.15; reporting is on from boot, as the banner's
     * "+CGEV: ME PDN ACT 8,1" shows). detach(): "+CGEV: NW DETACH The network has forced a PS
     * detach. This implies that all active contexts have been deactivated", so the data path and
     * the MQTT connections go as with lost coverage; the modem then attaches again by itself
     * (the banner's PDN ACT lines) [inferred]. pdnDeact(cid): "+CGEV: NW PDN DEACT <cid>"; cid 1
     * is the default bearer the MQTT stack uses, so it goes as with detach(); any other cid (8,
     * brought up at boot) leaves the data path alone.
     */
    detach() {
      m.urc('+CGEV: NW DETACH');
      deregister(0);
      m.networkLost();
      startRegistration();
    },
    pdnDeact(cid) {
      m.urc(`+CGEV: NW PDN DEACT ${cid}`);
      if (cid !== 1) return;
      deregister(0);
      m.networkLost();
      startRegistration();
    },
    /** the radio environment (faults): false = no cell to register on */
    setCoverage(on) {
      coverage = !!on;
    },
    get coverage() {
      return coverage;
    },
    state: () => s,
    settings: net,
  };
}
