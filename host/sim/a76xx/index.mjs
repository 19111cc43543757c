// A76xx / SIM7670G modem simulator: pin-powered, AT over the board's UART, built-in MQTT stack
// backed by `mqtt` from npm. See host/README.md for the contract and the files beside this one:
//   at-parse.mjs    command-line syntax          power.mjs     PWRKEY / RESET / POWER_ON
//   network.mjs     SIM, registration, time, id  ssl.mjs       CSSLCFG and certificate files
//   mqtt.mjs        CMQTT* state machine         mqtt-link.mjs the real connection to a broker
//   transcript.mjs  bytes both ways              errors.mjs    CME and MQTT error tables
//   transcripts.mjs reading the real captures    test-wiring.mjs a fake device for tests
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

import { createTranscript } from './transcript.mjs';
import { parseLine } from './at-parse.mjs';
import { createPower } from './power.mjs';
import { createNetwork } from './network.mjs';
import { createSsl } from './ssl.mjs';
import { createMqtt } from './mqtt.mjs';
import { CME } from './errors.mjs';

// Banner lines and when they appear [LG-AZ-LOG, LG-GPS-LOG; modem-facts §A.1]: *ATREADY at UART
// ready; +CPIN: READY when the SIM is ready; +CGEV lines when the default bearer is up (after
// registration); SMS DONE / PB DONE many seconds later (lateBannerMs after *ATREADY).
export const DEFAULT_BANNER = ['*ATREADY: 1', '+CPIN: READY', '+CGEV: EPS PDN ACT 1', '+CGEV: ME PDN ACT 8,1', 'PB DONE', 'SMS DONE'];
const phaseOf = (line) =>
  /^\+CPIN:/.test(line) ? 'sim' : /^\+CGEV:/.test(line) ? 'registered' : /^(SMS DONE|PB DONE)$/.test(line) ? 'late' : 'boot';

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
  ...rest
} = {}) {
  const opts = { model, revision, ...rest };
  const transcript = createTranscript(clock);
  const serial = device.serial(board.uart.port);
  const stats = {
    bytesIn: 0,
    bytesOut: 0,
    commands: 0,
    byCommand: {},
    urcs: 0,
    idleGapMs: 0,
    idleGaps: 0,
    boots: 0,
    rxMessages: 0,
    published: 0,
    get powerCuts() {
      return power.info.powerCuts;
    },
  };
  const errors = [];

  // ---- shared core -------------------------------------------------------------------------
  let gen = 0; // bumps on every power transition: older timers and callbacks become no-ops
  let ready = false;
  let echo = true;
  let cmee = cmeeDefault;
  let processing = false;
  let ops = 0;
  let inbuf = '';
  let line = '';
  let dataMode = null; // { need, buf, fn }
  let skipCrLf = false;
  let hungUntil = -1;
  let heldOut = '';
  let idleMark = clock.now();
  const lineOf = (banner || []).map((b) => (typeof b === 'string' ? { line: b, phase: phaseOf(b) } : b));

  const isHung = () => clock.now() < hungUntil;
  function idleNow() {
    const st = power.info.state;
    if (st !== 'on' && st !== 'off') return false;
    return !processing && ops === 0 && !isHung();
  }
  const markActivity = () => {
    idleMark = clock.now();
  };
  function hostAction() {
    if (idleNow()) {
      const gap = clock.now() - idleMark;
      if (gap > 0) {
        stats.idleGapMs += gap;
        stats.idleGaps++;
      }
    }
    markActivity();
  }

  function raw(text) {
    if (!text) return;
    if (isHung()) {
      heldOut += text;
      return;
    }
    transcript.add('out', text);
    stats.bytesOut += text.length;
    serial.rxWrite(text);
    markActivity();
  }

  const m = {
    clock,
    opts,
    stats,
    flash,
    gen: () => gen,
    after(ms, fn) {
      const g = gen;
      return clock.setTimeout(() => {
        if (g === gen) fn();
      }, ms);
    },
    clearTimer: (id) => id != null && clock.clearTimeout(id),
    raw,
    urc(l) {
      stats.urcs++;
      raw(`\r\n${l}\r\n`);
    },
    beginOp() {
      ops++;
      const g = gen;
      let done = false;
      return () => {
        if (done || g !== gen) return;
        done = true;
        ops--;
        markActivity();
      };
    },
    stateChanged: markActivity,
    bannerPhase(phase) {
      for (const b of lineOf) if (b.phase === phase) m.urc(b.line);
    },
    reboot(why) {
      power.set('booting', { kind: why, t0: clock.now() });
    },
    powerDown(why) {
      power.set('shutdown', { kind: why });
      clock.setTimeout(() => {
        if (power.info.state === 'shutdown') power.set('off', { kind: why });
      }, power.timing.shutdownMs);
    },
    networkLost: () => mqtt.networkLost(),
  };

  const network = createNetwork(m);
  const ssl = createSsl(m);
  const mqtt = createMqtt(m, ssl, network);

  // ---- responses -----------------------------------------------------------------------------
  function builder() {
    const b = { parts: [], promptLen: null, onData: null, thenFns: [], asyncFn: null };
    b.info = (...lines) => {
      if (lines.length) b.parts.push(`\r\n${lines.join('\r\n')}\r\n`);
      return b;
    };
    b.ok = () => (b.parts.push('\r\nOK\r\n'), b);
    b.error = () => (b.parts.push('\r\nERROR\r\n'), b);
    b.cme = (n) => {
      if (cmee === 0) return b.error();
      b.parts.push(`\r\n+CME ERROR: ${cmee === 1 ? n : CME[n] || 'unknown error'}\r\n`);
      return b;
    };
    b.fail = (l) => b.info(l).error();
    b.prompt = (len, fn) => {
      b.parts.push('\r\n>');
      b.promptLen = len;
      b.onData = fn;
      return b;
    };
    b.then = (fn) => (b.thenFns.push(fn), b);
    b.async = (fn) => (b.asyncFn = fn);
    return b;
  }

  const latencyFor = (name) => (typeof latencyMs === 'number' ? latencyMs : latencyMs[name] ?? latencyMs.default ?? 10);

  function execute(b, name) {
    processing = true;
    const emit = (bb) =>
      m.after(latencyFor(name), () => {
        raw(bb.parts.join(''));
        if (bb.promptLen != null) dataMode = { need: bb.promptLen, buf: '', fn: bb.onData };
        processing = false;
        markActivity();
        for (const f of bb.thenFns) f();
        pump();
      });
    if (b.asyncFn) {
      const g = gen;
      b.asyncFn((build) => {
        if (g !== gen) return;
        const b2 = builder();
        build(b2);
        emit(b2);
      });
    } else emit(b);
  }

  function guarded(fn) {
    try {
      fn();
    } catch (err) {
      // a simulator bug: surface it through the clock (rejects the running runFor)
      errors.push(err);
      clock.setTimeout(() => {
        throw err;
      }, 0);
    }
  }

  const basic = {
    E(arg, b) {
      if (arg !== '' && arg !== '0' && arg !== '1') return b.error();
      echo = arg === '1';
      b.ok();
    },
    I(arg, b) {
      if (arg !== '' && arg !== '0') return b.error();
      b.info(...network.ident()).ok(); // ATI (§2.2.7); no +GCAP line, as field log a shows
    },
    Z: (arg, b) => b.ok(),
    '&W': (arg, b) => b.ok(),
    '&F'(arg, b) {
      echo = true;
      cmee = cmeeDefault;
      b.ok();
    },
    V: (arg, b) => (arg === '' || arg === '1' ? b.ok() : b.error()), // only verbose framing simulated
    Q: (arg, b) => (arg === '' || arg === '0' ? b.ok() : b.error()),
  };

  const general = {
    '+CMEE'(c, b) {
      if (c.form === 'test') return b.info('+CMEE: (0-2)').ok();
      if (c.form === 'read') return b.info(`+CMEE: ${cmee}`).ok();
      if (c.form === 'exec') {
        cmee = cmeeDefault;
        return b.ok();
      }
      const n = c.params.length === 1 && /^[0-2]$/.test(c.params[0].value) ? Number(c.params[0].value) : null;
      if (n === null) return b.cme(50);
      cmee = n;
      b.ok();
    },
  };
  const handlers = { ...general, ...network.handlers, ...ssl.handlers, ...mqtt.handlers };

  function dispatch(text) {
    const cmd = parseLine(text);
    if (cmd === null) return; // no AT prefix: ignored
    const b = builder();
    let name = 'AT';
    if (cmd.kind === 'empty') b.ok();
    else if (cmd.kind === 'bad') b.error();
    else if (cmd.kind === 'basic') {
      name = `AT${cmd.name}`;
      if (basic[cmd.name]) basic[cmd.name](cmd.arg, b);
      else b.error();
    } else {
      name = cmd.name;
      if (handlers[name]) handlers[name](cmd, b);
      else b.error();
    }
    stats.commands++;
    stats.byCommand[name] = (stats.byCommand[name] || 0) + 1;
    execute(b, name);
  }

  function pump() {
    let echoOut = '';
    const flushEcho = () => {
      if (echoOut) raw(echoOut);
      echoOut = '';
    };
    while (!processing && inbuf.length && ready) {
      if (dataMode) {
        const take = Math.min(dataMode.need - dataMode.buf.length, inbuf.length);
        dataMode.buf += inbuf.slice(0, take);
        inbuf = inbuf.slice(take);
        if (dataMode.buf.length === dataMode.need) {
          const dm = dataMode;
          dataMode = null;
          skipCrLf = true;
          const b = builder();
          guarded(() => dm.fn(dm.buf, b));
          execute(b, 'data');
        }
        continue;
      }
      const ch = inbuf[0];
      inbuf = inbuf.slice(1);
      if (skipCrLf && (ch === '\r' || ch === '\n')) continue;
      skipCrLf = false;
      if (echo) echoOut += ch;
      if (ch === '\r') {
        flushEcho();
        const l = line;
        line = '';
        guarded(() => dispatch(l));
      } else if (ch === '\n') {
        // LF outside a command line: nothing
      } else if (ch === '\b') line = line.slice(0, -1);
      else line += ch;
    }
    flushEcho();
  }

  serial.onTx((data) => {
    transcript.add('in', data);
    stats.bytesIn += data.length;
    hostAction();
    // off, booting, shutting down, or hung: the bytes are lost
    if (!ready || isHung()) return;
    inbuf += data;
    pump();
  });

  // ---- power -------------------------------------------------------------------------------
  function resetAll() {
    gen++;
    ready = false;
    echo = true;
    cmee = cmeeDefault;
    processing = false;
    ops = 0;
    inbuf = '';
    line = '';
    dataMode = null;
    skipCrLf = false;
    mqtt.reset();
    ssl.reset();
    network.reset();
  }

  const power = createPower({
    clock,
    device,
    board,
    timing: powerTiming,
    onState(state, prev, why) {
      if (state === 'booting') {
        resetAll();
        stats.boots++;
        const remaining = Math.max(0, bootMs - (clock.now() - (why.t0 ?? clock.now())));
        m.after(remaining, () => {
          power.info.state = 'on';
          ready = true;
          m.bannerPhase('boot');
          network.onReady();
          m.after(lateBannerMs, () => m.bannerPhase('late'));
        });
      } else if (state === 'on') {
        // set directly above
      } else {
        resetAll();
      }
      markActivity();
    },
  });
  power.onHostPin(() => hostAction());

  // ---- public object -------------------------------------------------------------------------
  const modem = {
    transcript,
    stats,
    errors,
    flash,
    get power() {
      return power.info;
    },
    get state() {
      const n = network.state();
      const q = mqtt.state();
      return {
        power: power.info.state,
        ready,
        echo,
        cmee,
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
        busy: !idleNow(),
      };
    },
    // ---- faults (for reliability tests) ----
    /** the broker side drops client idx: +CMQTTCONNLOST: <idx>,<cause> follows */
    dropMqtt(cause = 1, idx = 0) {
      return mqtt.drop(idx, cause);
    },
    /** coverage lost: registration 0 (URCs if enabled), CONNLOST cause 3, +CMQTTNONET */
    loseNetwork({ stat = 0 } = {}) {
      network.deregister(stat);
      mqtt.networkLost();
    },
    /** coverage back: registers again after network.registrationMs */
    restoreNetwork() {
      network.startRegistration();
    },
    /** the modem stops listening for ms: input is lost, output is held back until it recovers */
    hang(ms) {
      hungUntil = clock.now() + ms;
      clock.setTimeout(() => {
        const t = heldOut;
        heldOut = '';
        raw(t);
      }, ms);
    },
    /** writes a URC as the modem would (e.g. for tests of URC handling) */
    urc: (l) => m.urc(l),
    dispose: () => power.dispose(),
  };
  return modem;
}
