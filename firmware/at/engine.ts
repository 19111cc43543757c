// The AT command engine: one command in flight, a queue behind it, URCs dispatched wherever
// they land (even between a command and its final result), '>' prompts answered with exactly
// the announced bytes, and results decoded into AtError values that carry code, meaning and hint.
//
// Timer ids: Espruino reuses them (the next id is the last one + 1), so clearing an id that has
// already fired or been cleared can cancel somebody else's timer. Every stored id is zeroed the
// moment it fires or is cleared.
//
// Which line belongs to whom, in order:
//  1. the in-flight command's async result (cmd.done, e.g. '+CMQTTPUB: 0,') ends it;
//  2. a line with the command's own prefix ('+CSQ:' for AT+CSQ) is one of its information lines;
//  3. a registered URC prefix goes to its handler;
//  4. the echo of the command (before ATE0) is dropped; OK/ERROR/+CME ERROR end the command;
//  5. anything else is an information line of the command in flight (ATI, CIFSR), or, with
//     nothing in flight, an unexpected line: logged and skipped.

import { createLineReader, LineReader } from './reader';
import { atError, AtError } from './errors';

export interface Cmd {
  /** full command text without the CR, e.g. 'AT+CSQ' */
  at: string;
  /** ms to wait for the final result (default DEFAULT_MS; a data command waits at least DATA_MS) */
  ms?: number;
  /** bytes written after the '>' prompt (exact length: the command announces it) */
  data?: string;
  /** prefix of the async result that follows OK, e.g. '+CMQTTCONNECT: 0,'; its last field is
   *  the error code (0 = done) */
  done?: string;
  /** ms to wait for that async result after OK (default 30000) */
  doneMs?: number;
  /** the command text holds a secret: only its name may be logged */
  hide?: boolean;
  /** failing is routine (readiness polls): don't log it */
  quiet?: boolean;
  /** in a script (script.ts): failing is routine, the script goes on (implies quiet) */
  mayFail?: 1;
  /** a final result other than OK/ERROR (SIM800: CIFSR answers only its IP, CIPSEND ends with
   *  "0, SEND OK"): 1 = done, -1 = failed, 0 = not a final line */
  fin?: (line: string) => number;
  /** with fin: OK is not the end, the fin line that follows is (SIM800 CIPSTART) */
  holdOk?: boolean;
  /** for one of the command's own lines: how many raw bytes follow it (+CIPRXGET: 2,0,n,m) */
  raw?: (line: string) => number;
  cb?: (err: AtError | null, lines: string[]) => void;
}

export interface At {
  send(cmd: Cmd): void;
  /** Calls fn for every line starting with prefix that is not part of a command's answer.
   *  One handler per prefix: registering the same prefix again replaces it (no leak on retries). */
  on(prefix: string, fn: (line: string) => void): void;
  /** After a URC that announces n raw bytes: hands the next n bytes to cb (n over 10240: cb('')
   *  at once; a block the line goes quiet in for a second is given up, without cb). */
  readRaw(n: number, cb: (data: string) => void): void;
  /** Gives up on the command in flight now if it is `at` (used to re-poll at once on a banner). */
  expire(at: string): void;
  /** Fails the command in flight now, whatever it is: a URC says it cannot end (the modem powered down). */
  abort(why: string): void;
  /** Commands that timed out since the modem last sent anything: 2 or more = it is not listening. */
  silent(): number;
}

/** 'AT+CMQTTCONNECT=0,"tcp://…",…' → 'AT+CMQTTCONNECT' */
export function cmdName(at: string): string {
  let end = at.length;
  const eq = at.indexOf('=');
  const q = at.indexOf('?');
  if (eq > 0) end = eq;
  if (q > 0 && q < end) end = q;
  return at.substr(0, end);
}

/** The line of an answer that starts with prefix ('+CSQ:'), or ''. A URC the modem prints inside
 *  an answer (RING, +CMTI, PB DONE, UNDER-VOLTAGE WARNNING) is in the lines too, and is not it. */
export function answerLine(lines: string[], prefix: string): string {
  for (let i = 0; i < lines.length; i++) if (lines[i].indexOf(prefix) == 0) return lines[i];
  return '';
}

/** The number after the last comma (or colon) of a result line: '+CMQTTPUB: 0,17' → 17. */
export function lastNumber(line: string): number {
  const i = Math.max(line.lastIndexOf(','), line.lastIndexOf(':'));
  return parseInt(line.substr(i + 1), 10);
}

// The A76XX AT manual gives 9000 ms as the "Max Response Time" of the 3GPP commands the firmware
// sends without a figure of its own (CREG, CEREG, CPIN, CSQ, CCLK, CGDCONT, CFUN, CTZU, CMEE, CICCID,
// CPSI: A76XX AT manual ch. 3-6); slower commands say so where they are sent.
const DEFAULT_MS = 9000;
// A data command (CMQTTTOPIC/PAYLOAD/WILL*, CCERTDOWN, CIPSEND) may print its '>' late; LilyGO
// waits 10 s for it (TinyGsmMqttA76xx.h). The manual gives no figure ("Max Response Time -").
const DATA_MS = 10000;
const SETTLE_MS = 100;
const SETTLE_MAX_MS = 1000;
const RAW_QUIET_MS = 1000;
// the build's __DTR_SLEEP__ (false folds this away); tests that import this file as TypeScript
// run without the build's defines, where it is undefined
const DTR_SLEEP = typeof __DTR_SLEEP__ != 'undefined' && __DTR_SLEEP__;

function isFinal(line: string): boolean {
  return line == 'OK' || line == 'ERROR' || line.indexOf('+CME ERROR:') == 0;
}

/**
 * write: bytes to the modem; log: one line. With DTR sleep (__DTR_SLEEP__, modem/dtr-sleep.ts)
 * wake(go) runs before each command line is written (go writes it once the modem's UART is
 * awake) and idle() when nothing is in flight or queued; other bundles drop both.
 */
export function createAt(
  write: (data: string) => void,
  log: (msg: string) => void,
  wake?: (go: () => void) => void,
  idle?: () => void,
): At & { feed: (chunk: string) => void } {
  const queue: Cmd[] = [];
  const urcs: { p: string; fn: (line: string) => void }[] = [];
  let cur: Cmd | null = null;
  let own = ''; // '+NAME:' prefix of the command in flight
  let lines: string[] = [];
  let afterOk = false; // in flight and OK seen: waiting for the async result
  let earlyDone: string | null = null; // the async result came before OK (allowed for some commands)
  let timer = 0;
  let settling = false;
  let settleTimer = 0;
  let quietSince = 0;
  let settleStart = 0;
  let rawTimer = 0;
  let timeouts = 0; // in a row, with nothing heard from the modem in between
  // A data command timed out before its '>': if the prompt still comes, the modem then takes
  // exactly this many bytes as data (the CMQTT input commands have no escape: A76XX AT manual
  // §18.2.4 "<input data here>", <req_length> bytes), so they are written, or it would eat the
  // next commands as payload. Until then (at most DATA_MS) nothing else is sent.
  let owed = '';

  function finish(err: AtError | null) {
    const c = cur!;
    const got = lines;
    stopTimer();
    cur = null;
    lines = [];
    afterOk = false;
    earlyDone = null;
    const noPrompt = reader.wantPrompt; // a data command whose '>' never came
    reader.wantPrompt = false;
    if (err && !c.quiet) log('at: ' + (c.hide ? cmdName(c.at) : c.at) + ' -> ' + err.kind + (err.code >= 0 ? ' ' + err.code : ''));
    if (err && err.kind == 'timeout') {
      timeouts++;
      if (noPrompt) {
        owed = c.data!;
        reader.wantPrompt = true;
      }
      settle();
    }
    if (c.cb) c.cb(err, got);
    next();
  }

  // After a timeout the modem may still answer the command we gave up on; that late OK/ERROR
  // must not be taken as the next command's answer. So the next command waits until the line
  // has been quiet for SETTLE_MS (at most SETTLE_MAX_MS), and final results meanwhile are dropped.
  // With data owed it waits for the late prompt (or a final result) up to DATA_MS instead.
  let settleMax = 0;
  function settle() {
    settling = true;
    quietSince = getTime();
    settleStart = quietSince;
    settleMax = owed ? DATA_MS : SETTLE_MAX_MS;
    if (settleTimer) clearTimeout(settleTimer);
    settleTimer = setTimeout(checkSettled, SETTLE_MS);
  }

  function checkSettled() {
    settleTimer = 0;
    const now = getTime();
    const quietFor = (now - quietSince) * 1000;
    const waited = (now - settleStart) * 1000;
    if ((!owed && quietFor >= SETTLE_MS - 1) || waited >= settleMax) {
      owed = '';
      reader.wantPrompt = false;
      settling = false;
      next();
    } else settleTimer = setTimeout(checkSettled, SETTLE_MS);
  }

  function fail(kind: string, code: number, text?: string) {
    finish(atError(cmdName(cur!.at), kind, code, text));
  }

  function asyncResult(line: string) {
    const code = lastNumber(line);
    lines.push(line);
    if (code !== 0)
      fail('mqtt', code >= 0 ? code : -1); // no number is no success either
    else finish(null);
  }

  function stopTimer() {
    if (timer) clearTimeout(timer);
    timer = 0;
  }

  function arm(ms: number) {
    stopTimer();
    timer = setTimeout(function () {
      timer = 0;
      fail('timeout', -1);
    }, ms);
  }

  function next() {
    if (DTR_SLEEP && idle && !cur && !settling && !queue.length) return idle();
    if (cur || settling || !queue.length) return;
    cur = queue.shift()!;
    own = cmdName(cur.at).substr(2) + ':';
    reader.wantPrompt = !!cur.data;
    arm(cur.data ? Math.max(cur.ms || 0, DATA_MS) : cur.ms || DEFAULT_MS);
    if (DTR_SLEEP && wake) {
      const line = cur.at + '\r';
      wake(function () {
        write(line);
      });
    } else write(cur.at + '\r');
  }

  // A raw block's bytes follow its header at once (10 KB take 0.9 s at 115200 baud). If the line
  // goes quiet with bytes still owed, some were lost: the block is given up, or it would swallow
  // the answers to the next commands. (A length over 10240 the reader refuses at once.)
  function rawArm() {
    if (rawTimer) clearTimeout(rawTimer);
    rawTimer = setTimeout(function () {
      rawTimer = 0;
      log('at: raw data cut short');
      reader.readRaw(0, function () {});
    }, RAW_QUIET_MS);
  }

  function readRaw(n: number, cb: (data: string) => void) {
    rawArm();
    reader.readRaw(n, function (data) {
      clearTimeout(rawTimer); // still armed: had it fired, this block would have been given up
      rawTimer = 0;
      cb(data);
    });
  }

  function onLine(line: string) {
    const c = cur;
    if (settling) {
      quietSince = getTime();
      if (isFinal(line)) {
        owed = ''; // the command we gave up on has answered: no prompt is coming
        return log('at: dropped a late ' + line);
      }
    }
    if (c && c.fin) {
      const r = c.fin(line);
      if (r) {
        lines.push(line);
        return r > 0 ? finish(null) : fail('error', -1, line);
      }
    }
    if (c) {
      if (c.done && line.indexOf(c.done) == 0) {
        if (afterOk) return asyncResult(line);
        // before OK: either the success-first order, or a sync failure followed by ERROR
        earlyDone = line;
        lines.push(line);
        return;
      }
      if (own.length > 2 && line.indexOf(own) == 0) {
        lines.push(line);
        const n = c.raw ? c.raw(line) : 0;
        if (n > 0)
          readRaw(n, function (data) {
            lines.push(data);
          });
        return;
      }
    }
    for (let i = 0; i < urcs.length; i++) {
      if (line.indexOf(urcs[i].p) == 0) return urcs[i].fn(line);
    }
    if (!c) return log('at: skipped unexpected line: ' + line.substr(0, 60));
    if (line == c.at) return; // echo
    if (line == 'OK') {
      if (c.holdOk) return arm(c.doneMs || 30000);
      if (!c.done) return finish(null);
      if (earlyDone) return asyncResult(earlyDone);
      afterOk = true;
      arm(c.doneMs || 30000);
      return;
    }
    if (line == 'ERROR') {
      // the reason, when there is one, is the '+NAME: <idx>,<err>' line just before ERROR
      for (let i = lines.length - 1; i >= 0; i--) {
        if (lines[i].indexOf(own) == 0 && lines[i].indexOf(',') > 0) return fail('mqtt', lastNumber(lines[i]));
      }
      // or the async result just after it: "ERROR / +CMQTTCONNECT: <client_index>,<err>" (A76XX
      // AT manual §18.2.2 case 3); a short wait for it, then the bare error
      if (c.done && !afterOk) {
        afterOk = true;
        stopTimer();
        timer = setTimeout(function () {
          timer = 0;
          fail('error', -1);
        }, 500);
        return;
      }
      return fail('error', -1);
    }
    if (line.indexOf('+CME ERROR:') == 0 || line.indexOf('+CMS ERROR:') == 0) {
      const text = line.substr(11).trim();
      const code = parseInt(text, 10);
      return fail('cme', code >= 0 ? code : -1, text);
    }
    lines.push(line);
  }

  function onPrompt() {
    if (owed) {
      log('at: late prompt; sending the ' + owed.length + ' bytes it waits for');
      write(owed);
      owed = '';
      reader.wantPrompt = false;
      settle(); // and its OK is dropped like any late answer
      return;
    }
    if (cur && cur.data) {
      reader.wantPrompt = false;
      write(cur.data);
    }
  }

  const reader: LineReader = createLineReader(onLine, onPrompt, 1100);

  return {
    feed: function (chunk) {
      timeouts = 0;
      if (settling) quietSince = getTime();
      if (rawTimer) rawArm();
      reader.feed(chunk);
    },
    send: function (cmd) {
      queue.push(cmd);
      next();
    },
    on: function (prefix, fn) {
      for (let i = 0; i < urcs.length; i++) {
        if (urcs[i].p == prefix) {
          urcs[i].fn = fn;
          return;
        }
      }
      urcs.push({ p: prefix, fn: fn });
    },
    readRaw: readRaw,
    expire: function (at) {
      if (cur && cur.at == at) fail('timeout', -1);
    },
    abort: function (why) {
      if (cur) fail('error', -1, why);
    },
    silent: function () {
      return timeouts;
    },
  };
}
