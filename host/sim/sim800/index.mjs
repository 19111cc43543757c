// SIM800L simulator (LilyGO T-Call SIM800L): pin-powered, AT over the board's UART, the CIP
// TCP/IP stack with real sockets (and TLS 1.0 without SNI for AT+CIPSSL=1). Same shape and
// contract as ../a76xx (host/README.md); reused from there: at-parse.mjs (command syntax),
// transcript.mjs, errors.mjs (CME texts), power.mjs (via ./power.mjs), holdFor (mqtt-link.mjs).
//   power.mjs   PWRKEY / RESET / POWER_ON with SIM800L timings   network.mjs SIM, CREG, CGATT…
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

import { createTranscript } from '../a76xx/transcript.mjs';
import { parseLine, int } from '../a76xx/at-parse.mjs';
import { CME } from '../a76xx/errors.mjs';
import { createSim800Power } from './power.mjs';
import { createNetwork } from './network.mjs';
import { createCip } from './cip.mjs';

const IPR_RATES = [0, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800];

/** What survives power cycles: the &W profile (here: the fixed baud rate; 0 = autobaud). */
export function createFlash(init = {}) {
  return { ipr: init.ipr ?? 0 };
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
  faults = {},
  ...rest
} = {}) {
  const opts = { ...rest };
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
    lostBytes: 0,
    txBytes: 0,
    rxBytes: 0,
    connects: [],
    get powerCuts() {
      return power.info.powerCuts;
    },
  };
  const errors = [];

  let gen = 0;
  let ready = false;
  let synced = false; // autobaud: the host's first AT has been seen
  let swallowLine = false;
  let lastA = false;
  let echo = true;
  let cmee = cmeeDefault;
  let ipr = flash.ipr;
  let processing = false;
  let ops = 0;
  let inbuf = '';
  let line = '';
  let dataMode = null; // { need (null = until Ctrl-Z), buf, fn }
  let pendingUrc = '';
  let idleMark = clock.now();

  function idleNow() {
    const st = power.info.state;
    if (st !== 'on' && st !== 'off') return false;
    return !processing && ops === 0 && !dataMode;
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
    transcript.add('out', text);
    stats.bytesOut += text.length;
    serial.rxWrite(text);
    markActivity();
  }
  function urcRaw(text) {
    if (!ready || (ipr === 0 && !synced)) return; // nobody to talk to at an unknown rate
    stats.urcs++;
    if (processing || dataMode) pendingUrc += text;
    else raw(text);
  }
  function flushUrcs() {
    if (processing || dataMode || !pendingUrc) return;
    const t = pendingUrc;
    pendingUrc = '';
    raw(t);
  }

  const bannerLines = {
    boot: ['RDY', '+CFUN: 1'],
    sim: ['+CPIN: READY'],
    late: ['Call Ready', 'SMS Ready'],
  };

  const m = {
    clock,
    opts,
    stats,
    flash,
    faults,
    gen: () => gen,
    after(ms, fn) {
      const g = gen;
      return clock.setTimeout(() => {
        if (g === gen) fn();
      }, ms);
    },
    clearTimer: (id) => id != null && clock.clearTimeout(id),
    raw,
    urc: (l) => urcRaw(`\r\n${l}\r\n`),
    urcRaw,
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
      if (ipr === 0) return; // autobaud: no boot URCs (§B.1)
      for (const l of bannerLines[phase]) m.urc(l);
    },
    networkLost: () => cip.networkLost(),
  };

  const network = createNetwork(m);
  const cip = createCip(m, network);

  // ---- responses -----------------------------------------------------------------------------
  function builder() {
    const b = { parts: [], prompt: null, thenFns: [], asyncFn: null };
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
    b.prompt = (len, fn) => {
      b.parts.push('\r\n> ');
      b.promptSpec = { need: len, fn };
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
        if (bb.promptSpec) dataMode = { need: bb.promptSpec.need, buf: '', fn: bb.promptSpec.fn };
        processing = false;
        markActivity();
        for (const f of bb.thenFns) guarded(f);
        flushUrcs();
        pump();
      });
    if (b.asyncFn) {
      const g = gen;
      b.asyncFn((build) => {
        if (g !== gen) return;
        const b2 = builder();
        guarded(() => build(b2));
        if (b2.asyncFn) return execute(b2, name);
        emit(b2);
      });
    } else emit(b);
  }

  function guarded(fn) {
    try {
      fn();
    } catch (err) {
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
    I: (arg, b) => b.info(...network.ident()).ok(),
    Z(arg, b) {
      echo = true;
      cmee = cmeeDefault;
      b.ok();
    },
    '&W'(arg, b) {
      flash.ipr = ipr; // the user profile keeps the fixed rate (§B.1: AT+IPR=115200 + AT&W)
      b.ok();
    },
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
      const n = c.params.length === 1 && /^[0-2]$/.test(c.params[0].value) ? Number(c.params[0].value) : null;
      if (n === null) return b.error();
      cmee = n;
      b.ok();
    },
    '+IPR'(c, b) {
      if (c.form === 'read') return b.info(`+IPR: ${ipr}`).ok();
      if (c.form === 'test') return b.info(`+IPR: (),(${IPR_RATES.join(',')})`).ok();
      const n = int(c.params[0]);
      if (c.form !== 'write' || !IPR_RATES.includes(n)) return b.error();
      b.ok().then(() => {
        ipr = n;
      });
    },
    '+CPOWD'(c, b) {
      const n = int(c.params[0]);
      if (c.form !== 'write' || (n !== 0 && n !== 1)) return b.error();
      // "AT+CPOWD=1 also prints NORMAL POWER DOWN" (§B.1); no OK
      b.info('NORMAL POWER DOWN').then(() => powerDown('cpowd'));
    },
  };
  const handlers = { ...general, ...network.handlers, ...cip.handlers };

  function dispatch(text) {
    const cmd = parseLine(text);
    if (cmd === null) return;
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

  function endData(dm, data, cancelled) {
    dataMode = null;
    const b = builder();
    guarded(() => dm.fn(data, b, cancelled));
    execute(b, 'data');
  }

  function pump() {
    let echoOut = '';
    const flushEcho = () => {
      if (echoOut) raw(echoOut);
      echoOut = '';
    };
    while (!processing && inbuf.length && ready) {
      if (dataMode) {
        const dm = dataMode;
        if (dm.need != null) {
          const take = Math.min(dm.need - dm.buf.length, inbuf.length);
          dm.buf += inbuf.slice(0, take);
          inbuf = inbuf.slice(take);
          if (dm.buf.length === dm.need) endData(dm, dm.buf, false);
        } else {
          const ch = inbuf[0];
          inbuf = inbuf.slice(1);
          if (ch === '\x1a') endData(dm, dm.buf, false);
          else if (ch === '\x1b') endData(dm, '', true);
          else dm.buf += ch;
        }
        continue;
      }
      const ch = inbuf[0];
      inbuf = inbuf.slice(1);
      if (swallowLine) {
        // the autobaud-detecting AT line: no echo, no answer
        if (ch === '\r') swallowLine = false;
        continue;
      }
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
    flushUrcs();
  }

  // Returns what follows the host's first "AT" (the rate is known from then on), '' before it.
  function autobaudScan(data) {
    for (let i = 0; i < data.length; i++) {
      const ch = data[i];
      if (lastA && (ch === 'T' || ch === 't')) {
        synced = true;
        markActivity();
        if (autobaudAnswerFirst) return 'AT' + data.slice(i + 1);
        swallowLine = true;
        return data.slice(i + 1);
      }
      lastA = ch === 'A' || ch === 'a';
    }
    return '';
  }

  serial.onTx((data) => {
    transcript.add('in', data);
    stats.bytesIn += data.length;
    hostAction();
    if (!ready) return; // off, booting or shutting down: the bytes are lost
    const hostBaud = serial.setup && serial.setup.baud;
    if (ipr !== 0 && hostBaud && hostBaud !== ipr) {
      stats.lostBytes += data.length; // wrong rate: framing errors
      return;
    }
    if (ipr === 0 && !synced) {
      data = autobaudScan(data);
      if (!synced) return;
    }
    inbuf += data;
    pump();
  });

  // ---- power -------------------------------------------------------------------------------
  function resetAll() {
    gen++;
    ready = false;
    synced = false;
    swallowLine = false;
    lastA = false;
    echo = true;
    cmee = cmeeDefault;
    ipr = flash.ipr;
    processing = false;
    ops = 0;
    inbuf = '';
    line = '';
    dataMode = null;
    pendingUrc = '';
    cip.reset();
    network.reset();
  }

  function powerDown(why) {
    power.set('shutdown', { kind: why });
    clock.setTimeout(() => {
      if (power.info.state === 'shutdown') power.set('off', { kind: why });
    }, power.timing.shutdownMs);
  }

  const power = createSim800Power({
    clock,
    device,
    board,
    timing: powerTiming,
    onState(state, prev, why) {
      if (state === 'shutdown' && why.kind === 'pwrkey' && ready) {
        // PWRKEY power-off prints NORMAL POWER DOWN; the UART dies ~2 s later (§B.1)
        dataMode = null;
        processing = false;
        m.urc('NORMAL POWER DOWN');
      }
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
          markActivity();
        });
      } else if (state !== 'on') resetAll();
      markActivity();
    },
  });
  power.onHostPin(() => hostAction());

  const modem = {
    transcript,
    stats,
    errors,
    flash,
    faults,
    get power() {
      return power.info;
    },
    get state() {
      const n = network.state();
      const c = cip.state();
      return {
        power: power.info.state,
        ready,
        autobaud: ipr === 0,
        synced: ipr !== 0 || synced,
        baud: ipr,
        echo,
        cmee,
        simReady: n.simReady,
        creg: n.stat,
        cgatt: n.cgatt,
        cfun: n.cfun,
        cip: c.state,
        mux: c.mux,
        qsend: c.qsend,
        rxget: c.rxget,
        ssl: c.ssl,
        apn: c.apn,
        links: c.links,
        busy: !idleNow(),
      };
    },
    // ---- faults ----
    /** the PDP context drops: open links "<n>, CLOSED", then +PDP: DEACT; CIPSHUT recovers */
    pdpDeact: () => cip.pdpDeact(),
    /** the server side of link n goes away now ("<n>, CLOSED") */
    dropLink: (n) => cip.drop(n),
    loseNetwork() {
      network.deregister();
      cip.networkLost();
    },
    restoreNetwork: () => network.startRegistration(),
    urc: (l) => m.urc(l),
    dispose() {
      cip.reset();
      power.dispose();
    },
  };
  return modem;
}
