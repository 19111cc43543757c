// SIM800L simulator (LilyGO T-Call SIM800L): pin-powered, AT over the board's UART, the CIP
// TCP/IP stack with real sockets (and TLS 1.0 without SNI for AT+CIPSSL=1). Same shape and
// contract as ../a76xx (host/README.md). The UART, framing, answers, timers, statistics and power
// wiring are in ../common/at-modem-core.mjs; also shared with ../a76xx, in ../common/:
// at-parse.mjs (command syntax), power.mjs (via ./power.mjs), hold.mjs, cme.mjs, transcript.mjs.
//   power.mjs   PWRKEY / RESET / POWER_ON with SIM800L timings   network.mjs SIM, CREG, CGATT,
//                                                                 CCLK/CLTS and network time
//   cip.mjs     CIP state machine and commands                    link.mjs    the real sockets
//
// Framing (modem-facts.md §B): V.25ter like the A76xx — echo on after boot ("AT+CREG?\r" then
// "\r\n+CREG: 0,1\r\n\r\nOK\r\n"), until ATE0; finals "\r\nOK\r\n", "\r\nERROR\r\n",
// "\r\n+CME ERROR: <n|text>\r\n" per AT+CMEE (default 0 [inferred: 3GPP 27.007 default];
// CMEE=2 prints "operation not allowed"). Data prompt "\r\n> " WITH a space (§B.2), then exactly
// <len> bytes (or up to Ctrl-Z without a length; ESC cancels).
// URCs that fall inside a command's answer or a data prompt are held back until it ends
// [inferred: V.250 §5.7.1 buffering].
//
// Autobaud (§B.1, SIM800L-HW §3.2.1/§3.5.1): factory IPR=0. While it is 0 the modem prints no
// boot URCs and does not know the rate: everything before the host's first "AT" is lost, and
// that first command line gets no answer (opts.autobaudAnswerFirst = true answers it). After
// AT+IPR=115200 and AT&W (kept in `flash`, which survives power cycles) every boot prints
// RDY, +CFUN: 1, +CPIN: READY, Call Ready, SMS Ready. With a fixed rate, bytes sent by a host
// UART set to another baud (device.serial(...).setup.baud) are garbage to the modem: lost.
//
// Clock: AT+CCLK? runs from 04/01/01,00:00:00 after every power-up; with AT+CLTS=1 (kept by
// AT&W) each registration brings the network time (options clockUtc, as the A76xx simulator,
// and network.{nitz, tz, dst, nitzDelayMs, nitzUrcs}; details and sources in network.mjs).

import { int } from '../common/at-parse.mjs';
import { createAtModemCore } from '../common/at-modem-core.mjs';
import { createSim800Power } from './power.mjs';
import { createNetwork } from './network.mjs';
import { createCip } from './cip.mjs';
import { createSleep } from '../common/sleep.mjs';

const IPR_RATES = [0, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800];

const BANNER = [
  { line: 'RDY', phase: 'boot' },
  { line: '+CFUN: 1', phase: 'boot' },
  { line: '+CPIN: READY', phase: 'sim' },
  { line: 'Call Ready', phase: 'late' },
  { line: 'SMS Ready', phase: 'late' },
];

/**
 * What survives power cycles: the &W profile (the fixed baud rate, 0 = autobaud; CLTS, network
 * time on/off) and the clock's last zone (quarter hours, see network.mjs).
 */
export function createFlash(init = {}) {
  return { ipr: init.ipr ?? 0, clts: init.clts ?? 0, tz: init.tz ?? 0 };
}

export function createSim800({
  clock,
  device,
  board,
  bootMs = 3000, // STATUS goes high ~3 s after the PWRKEY pulse (§B.1); UART ready then [inferred]
  lateBannerMs = 5000, // Call Ready / SMS Ready after RDY [inferred]
  autobaud = true, // factory state; false = a flash already holding IPR=115200 + &W
  autobaudAnswerFirst = false,
  cmeeDefault = 0,
  latencyMs = 10,
  flash = createFlash(autobaud ? {} : { ipr: 115200 }),
  powerTiming,
  sleepTiming,
  faults = {},
  cbatchk: cbatchkDefault = 0,
  ...rest
} = {}) {
  const core = createAtModemCore({
    clock,
    device,
    board,
    opts: { ...rest },
    flash,
    stats: { lostBytes: 0, txBytes: 0, rxBytes: 0, connects: [] },
    cmeeDefault,
    latencyMs,
    bootMs,
    lateBannerMs,
    banner: BANNER,
    prompt: '\r\n> ',
    holdUrcs: true,
    promptIsBusy: true,
    createPower: createSim800Power,
    powerTiming,
  });
  const { m, stats } = core;
  m.faults = faults;
  m.networkLost = () => cip.networkLost();

  let ipr = flash.ipr;
  let cbatchk = cbatchkDefault;
  let synced = false; // autobaud: the host's first AT has been seen
  let lastA = false;

  const network = createNetwork(m);
  const cip = createCip(m, network);
  // DTR sleep (../common/sleep.mjs)
  const sleep = createSleep({ core, clock, device, board, kind: 'SIM800', csclk: () => network.state().csclk || 0, timing: sleepTiming });
  Object.defineProperty(stats, 'sleepMs', { enumerable: true, get: () => sleep.snapshot().sleepMs });
  Object.defineProperty(stats, 'sleeps', { enumerable: true, get: () => sleep.stats.sleeps });
  Object.defineProperty(stats, 'sleepLostBytes', { enumerable: true, get: () => sleep.stats.lostBytes }); // sent while it slept
  m.lowPowerActivity = () => sleep.activity();

  const basic = {
    I: (arg, b) => b.info(...network.ident()).ok(),
    Z(arg, b) {
      core.factoryProfile();
      network.restoreProfile();
      b.ok();
    },
    '&F'(arg, b) {
      core.factoryProfile();
      network.factoryProfile();
      b.ok();
    },
    '&W'(arg, b) {
      flash.ipr = ipr; // the user profile keeps the fixed rate (§B.1: AT+IPR=115200 + AT&W)
      network.saveProfile(); // and AT+CLTS (TinyGSM#289: "AT+CLTS=1;&W")
      b.ok();
    },
  };

  const general = {
    '+IPR'(c, b) {
      if (c.form === 'read') return b.info(`+IPR: ${ipr}`).ok();
      if (c.form === 'test') return b.info(`+IPR: (),(${IPR_RATES.join(',')})`).ok();
      const n = int(c.params[0]);
      if (c.form !== 'write' || !IPR_RATES.includes(n)) return b.error();
      b.ok().then(() => {
        ipr = n;
      });
    },
    // AT+CBATCHK=<0|1>: VBAT checking. SIM800L-HW §4.2.2.3 (modem-facts.md §B.1): "The default
    // over voltage or under voltage power down is disable, AT command "AT+CBATCHK=1" could be used
    // to open this function". Option cbatchk: the value after each boot (default 0) [inferred:
    // whether &W keeps it is not in the references].
    '+CBATCHK'(c, b) {
      if (c.form === 'test') return b.info('+CBATCHK: (0,1)').ok();
      if (c.form === 'read') return b.info(`+CBATCHK: ${cbatchk}`).ok();
      const n = int(c.params[0]);
      if (c.form !== 'write' || (n !== 0 && n !== 1)) return b.error();
      cbatchk = n;
      b.ok();
    },
    '+CPOWD'(c, b) {
      const n = int(c.params[0]);
      if (c.form !== 'write' || (n !== 0 && n !== 1)) return b.error();
      // "AT+CPOWD=1 also prints NORMAL POWER DOWN" (§B.1); no OK
      b.info('NORMAL POWER DOWN').then(() => m.powerDown('cpowd'));
    },
  };

  // Returns what follows the host's first "AT" (the rate is known from then on), '' before it.
  function autobaudScan(data) {
    for (let i = 0; i < data.length; i++) {
      const ch = data[i];
      if (lastA && (ch === 'T' || ch === 't')) {
        synced = true;
        m.stateChanged();
        if (autobaudAnswerFirst) return 'AT' + data.slice(i + 1);
        core.swallowLine(); // the rate-detecting AT line: no echo, no answer
        return data.slice(i + 1);
      }
      lastA = ch === 'A' || ch === 'a';
    }
    return '';
  }

  const power = core.start({
    basic,
    handlers: { ...general, ...network.handlers, ...cip.handlers, ...sleep.handlers },
    output: sleep.output,
    onReady() {
      network.onReady();
      m.stateChanged();
    },
    onReset() {
      sleep.reset();
      cbatchk = cbatchkDefault;
      synced = false;
      lastA = false;
      ipr = flash.ipr;
      cip.reset();
      network.reset();
    },
    onPowerState(state, prev, why) {
      if (state === 'shutdown' && why.kind === 'pwrkey' && core.ready) {
        // PWRKEY power-off prints NORMAL POWER DOWN; the UART dies ~2 s later (§B.1)
        core.abort();
        m.urc('NORMAL POWER DOWN');
      }
    },
    acceptInput(data) {
      if (sleep.acceptInput(data) === null) return null; // asleep: the serial port is not accessible
      const hostBaud = core.serial.setup && core.serial.setup.baud;
      if (ipr !== 0 && hostBaud && hostBaud !== ipr) {
        stats.lostBytes += data.length; // wrong rate: framing errors
        return null;
      }
      if (ipr === 0 && !synced) {
        data = autobaudScan(data);
        if (!synced) return null;
      }
      return data;
    },
    canUrc: () => core.ready && (ipr !== 0 || synced), // nobody to talk to at an unknown rate
    bannerOn: () => ipr !== 0, // autobaud: no boot URCs (§B.1)
  });

  return core.expose({
    faults,
    /** 'awake' | 'sleep' (DTR sleep, ../common/sleep.mjs); time asleep: stats.sleepMs */
    get lowPower() {
      return sleep.lowPower;
    },
    get state() {
      const n = network.state();
      const c = cip.state();
      return core.status({
        autobaud: ipr === 0,
        synced: ipr !== 0 || synced,
        baud: ipr,
        simReady: n.simReady,
        creg: n.stat,
        cgatt: n.cgatt,
        cfun: n.cfun,
        clts: n.clts,
        cclk: n.cclk,
        cip: c.state,
        mux: c.mux,
        qsend: c.qsend,
        rxget: c.rxget,
        ssl: c.ssl,
        apn: c.apn,
        links: c.links,
      });
    },
    // ---- faults (for reliability tests and host/testing/faults.mjs). From the core: hang(ms), urc(line),
    // inject(text, {into, at}), reboot() (spontaneous restart: "RDY", "+CFUN: 1", "+CPIN: READY",
    // "Call Ready", "SMS Ready" again when the baud rate is fixed, nothing in autobaud, §B.1),
    // cutSupply()/restoreSupply(). ----
    /** the PDP context drops: open links "<n>, CLOSED", then +PDP: DEACT; CIPSHUT recovers */
    pdpDeact: () => cip.pdpDeact(),
    /**
     * The supply sags below 3.4 V (a weak battery under a transmit burst). SIM800L-HW §4.2.2.3:
     * "If the voltage ≤ 3.5V, the following URC will be reported: UNDER-VOLTAGE WARNNING"; "If
     * the voltage < 3.4V, the following URC will be reported, and the module will be automatically
     * powered down. UNDER-VOLTAGE POWER DOWN" — the power down only with AT+CBATCHK=1. Then off
     * like a normal power down (shutdownMs), until the next PWRKEY power-on. Without CBATCHK=1
     * only the warning [what a brown-out does then is not simulated]. false when not on.
     */
    underVoltage() {
      if (!core.ready) return false;
      if (cbatchk) core.abort(); // the command being answered gets no answer
      m.urc('UNDER-VOLTAGE WARNNING');
      if (!cbatchk) return true;
      m.urc('UNDER-VOLTAGE POWER DOWN');
      m.powerDown('under-voltage');
      return true;
    },
    /** the server side of link n goes away now ("<n>, CLOSED") */
    dropLink: (n) => cip.drop(n),
    /**
     * Coverage lost: registration <stat> ("+CREG: <stat>" if AT+CREG=1/2), open links
     * "<n>, CLOSED" and "+PDP: DEACT" (the context goes with the network [inferred]); until
     * restoreNetwork() a new registration attempt only searches (2) and AT+CSQ answers 99.
     */
    loseNetwork({ stat = 0 } = {}) {
      network.setCoverage(false);
      network.deregister(stat);
      cip.networkLost();
    },
    restoreNetwork() {
      network.setCoverage(true);
      network.startRegistration();
    },
    dispose() {
      cip.reset();
      power.dispose();
    },
  });
}
