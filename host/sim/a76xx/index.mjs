// A76xx / SIM7670G modem simulator: pin-powered, AT over the board's UART, built-in MQTT stack
// backed by `mqtt` from npm. See host/README.md for the contract and the files beside this one:
//   network.mjs     SIM, registration, time, id  ssl.mjs       CSSLCFG and certificate files
//   mqtt.mjs        CMQTT* state machine         mqtt-link.mjs the real connection to a broker
//   errors.mjs      MQTT error tables
// Shared with the SIM800 simulator, in ../common/: at-modem-core.mjs (the UART, framing, answers,
// timers, statistics and power wiring), at-parse.mjs (command-line syntax), power.mjs (PWRKEY /
// RESET / POWER_ON), transcript.mjs (bytes both ways), cme.mjs (CME error table), hold.mjs
// (virtual time held during real I/O). This file holds what is particular to the A76xx.
// Test helpers: host/testing/test-device.mjs (a fake device), host/testing/transcripts.mjs
// (reading the real captures).
//
// Framing (modem-facts.md §A.0, A76-ATM §1.5): echo on after boot, every byte of the command
// line (incl. CR) echoed as it arrives; info lines "\r\n<line>\r\n" (several lines joined by
// CRLF), final "\r\nOK\r\n" / "\r\nERROR\r\n" / "\r\n+CME ERROR: <n|text>\r\n" per AT+CMEE
// (default 1: the A7670G answered "+CME ERROR: 13" without any CMEE set [LG-AZ-LOG]); data
// prompt "\r\n>" (no space; the captures show the data right after ">") then exactly <len>
// bytes, not echoed [LG-AZ-LOG], a CR/LF right after the block is swallowed (§A.0). Lines not
// starting with AT/at are ignored. Unknown commands: ERROR.
// Commands are taken one at a time: bytes arriving while a command is still being answered wait
// in the input buffer (the manual asks the host to wait for the final result, §1.5.2 item 5).
// URCs are written when they happen, even inside another command's answer (PB DONE / SMS DONE
// between AT+CMQTTCONNECT and its OK in LG-AZ-LOG, modem-facts §A.1).

import { createAtModemCore } from '../common/at-modem-core.mjs';
import { createPower } from '../common/power.mjs';
import { createNetwork } from './network.mjs';
import { createSsl } from './ssl.mjs';
import { createMqtt } from './mqtt.mjs';
import { createGnss } from './gnss.mjs';
import { createSleep } from '../common/sleep.mjs';

// Banner lines and when they appear [LG-AZ-LOG, LG-GPS-LOG; modem-facts §A.1]: *ATREADY at UART
// ready; +CPIN: READY when the SIM is ready; +CGEV lines when the default bearer is up (after
// registration); SMS DONE / PB DONE many seconds later (lateBannerMs after *ATREADY).
export const DEFAULT_BANNER = ['*ATREADY: 1', '+CPIN: READY', '+CGEV: EPS PDN ACT 1', '+CGEV: ME PDN ACT 8,1', 'PB DONE', 'SMS DONE'];
const phaseOf = (line) => (/^\+CPIN:/.test(line) ? 'sim' : /^\+CGEV:/.test(line) ? 'registered' : /^(SMS DONE|PB DONE)$/.test(line) ? 'late' : 'boot');

/** A fresh flash (what survives power cycles): certificate files and non-volatile settings. */
export function createFlash(init = {}) {
  return {
    files: new Map(Object.entries(init.files || {})),
    ctzu: init.ctzu ?? 0, // factory 0 (§4.2.12)
    iprex: init.iprex ?? 115200,
    cgdcont: new Map(init.cgdcont || [[1, { type: 'IP', apn: '' }]]), // §3 example: +CGDCONT: 1,"IP",""
    rtc: { base: init.rtcUtc ?? Date.UTC(2000, 0, 1), at: 0 }, // factory RTC [inferred]
  };
}

export function createA76xx({
  clock,
  device,
  board,
  model = board.modemModel,
  revision,
  bootMs = 11100, // Ton(uart) 11.1 s typ. (A7670-HW table 11)
  lateBannerMs = 14000,
  banner = DEFAULT_BANNER,
  cmeeDefault = 1,
  latencyMs = 10,
  flash = createFlash(),
  powerTiming,
  sleepTiming,
  psm = null,
  ...rest
} = {}) {
  const core = createAtModemCore({
    clock,
    device,
    board,
    opts: { model, revision, ...rest },
    flash,
    stats: { rxMessages: 0, published: 0 },
    cmeeDefault,
    latencyMs,
    bootMs,
    lateBannerMs,
    banner: (banner || []).map((b) => (typeof b === 'string' ? { line: b, phase: phaseOf(b) } : b)),
    prompt: '\r\n>',
    swallowCrLfAfterData: true,
    cmeeExec: true,
    badParameter: (b) => b.cme(50),
    createPower,
    powerTiming,
  });
  const m = core.m;
  m.networkLost = () => mqtt.networkLost();

  const network = createNetwork(m);
  const ssl = createSsl(m, core.transcript); // the transcript: CCERTDOWN's packet size (ssl.mjs)
  const mqtt = createMqtt(m, ssl, network);
  const gnss = createGnss(m); // GNSS and the modem GPIOs (gnss.mjs)
  // DTR sleep and PSM (../common/sleep.mjs); psm: the network's answer to AT+CPSMS (see there)
  const registered = () => [1, 5].includes(network.state().stat.CEREG);
  const sleep = createSleep({ core, clock, device, board, kind: 'A76xx', csclk: () => network.state().csclk, registered, timing: sleepTiming, psm, flash });
  Object.defineProperty(core.stats, 'sleepMs', { enumerable: true, get: () => sleep.snapshot().sleepMs });
  Object.defineProperty(core.stats, 'sleeps', { enumerable: true, get: () => sleep.stats.sleeps });
  Object.defineProperty(core.stats, 'sleepLostBytes', { enumerable: true, get: () => sleep.stats.lostBytes }); // sent while it slept
  Object.defineProperty(core.stats, 'psmMs', { enumerable: true, get: () => sleep.snapshot().psmMs });
  m.lowPowerActivity = () => sleep.activity();

  const basic = {
    I(arg, b) {
      if (arg !== '' && arg !== '0') return b.error();
      b.info(...network.ident()).ok(); // ATI (§2.2.7); no +GCAP line, as field log a shows
    },
    Z: (arg, b) => b.ok(),
    '&W': (arg, b) => b.ok(),
  };

  core.start({
    basic,
    handlers: {
      ...network.handlers,
      ...ssl.handlers,
      ...mqtt.handlers,
      ...gnss.handlers,
      ...sleep.handlers,
      '+CEREG': sleep.cereg(network.handlers['+CEREG']),
    },
    onReady: () => network.onReady(),
    acceptInput: sleep.acceptInput,
    output: sleep.output,
    onReset() {
      sleep.reset();
      mqtt.reset();
      ssl.reset();
      network.reset();
      gnss.reset();
    },
  });

  return core.expose({
    /** 'awake' | 'sleep' (DTR sleep) | 'psm' (../common/sleep.mjs); time in each: stats.sleepMs, stats.psmMs */
    get lowPower() {
      return sleep.lowPower;
    },
    get state() {
      const n = network.state();
      const q = mqtt.state();
      return core.status({
        simReady: n.simReady,
        cfun: n.cfun,
        reg: { ...n.stat },
        netOpen: n.netOpen,
        baud: n.ipr,
        csclk: n.csclk,
        started: q.started,
        clients: q.clients,
        mqttSslCfg: q.sslcfg,
        ssl: ssl.contexts().map((c) => ({ ...c })),
        files: [...flash.files.keys()],
        gnss: gnss.state(),
      });
    },
    // ---- faults (for reliability tests and host/testing/faults.mjs). From the core: hang(ms), urc(line),
    // inject(text, {into, at}), reboot() (spontaneous restart: banner DEFAULT_BANNER again,
    // "*ATREADY: 1" first), cutSupply()/restoreSupply(). ----
    /** the broker side drops client idx: +CMQTTCONNLOST: <idx>,<cause> follows */
    dropMqtt(cause = 1, idx = 0) {
      return mqtt.drop(idx, cause);
    },
    /**
     * Coverage lost: registration <stat> (URCs if enabled), +CIPEVENT: NETWORK CLOSED
     * UNEXPECTEDLY if NETOPEN was open, CONNLOST cause 3, +CMQTTNONET (A76-ATM §18.4). Until
     * restoreNetwork() a new registration attempt (reboot, CFUN=1) only searches (stat 2) and
     * AT+CSQ answers 99,99.
     */
    loseNetwork({ stat = 0 } = {}) {
      network.setCoverage(false);
      network.deregister(stat);
      mqtt.networkLost();
    },
    /** "+CGEV: NW DETACH": every context gone, the modem attaches again (network.mjs detach) */
    networkDetach() {
      network.detach();
    },
    /** "+CGEV: NW PDN DEACT <cid>": cid 1 takes the data path down, cid 8 nothing (network.mjs) */
    pdnDeact(cid) {
      network.pdnDeact(cid);
    },
    /** coverage back: registers again after network.registrationMs */
    restoreNetwork() {
      network.setCoverage(true);
      network.startRegistration();
    },
    /**
     * The next `count` AT+CMQTTPUB answer OK but the broker's PUBACK (QoS 1) never comes: after
     * <pub_timeout> s the modem reports "+CMQTTPUB: <idx>,17" (17 = timeout, A76-ATM §18.2.6
     * "it will report failed if the client receive no response from server after the timeout
     * value seconds", error table §18.3.1). delivered: true sends the PUBLISH to the broker
     * anyway (the PUBACK is what got lost: the broker has the message); false (default) loses
     * it on the way. The connection stays up [inferred]. QoS 0 publishes are not affected (they
     * complete when written).
     */
    pubTimeout({ count = 1, delivered = false } = {}) {
      mqtt.faults.pubTimeout = { count, delivered };
    },
  });
}
