// Every AT command the SIM800 family sends, with its time and where it is written down (after
// esp_modem's esp_modem_command_declare.inc). The driver's scripts (net.ts, socket.ts) name these.
//
// Sources: SIM800 Series AT Command Manual V1.09 (ATM), SIM800L Hardware Design (HW), the SIM800
// SSL application note (SSL-AN), docs/modem-facts.md §B (FACTS: real logs where the manual differs),
// TinyGSM's TinyGsmClientSIM800.h (TINYGSM).
// Times: the manual's "Max Response Time"; where it gives "-" or no figure was found [unverified],
// the engine's default (9 s) — a plain string is such a command, answered by OK.
// Commands with times or answers of their own are functions that build a fresh Cmd when called: the
// script runner and the engine set cb on a Cmd, so one is never shared, and nothing here is
// evaluated at load (terser inlines what is used once).
//
// Sent by the shared modules, not from here: AT+CPIN?, AT+CPIN="…" (9 s), AT+CREG? (9 s)
// (../registration.ts), AT+CFUN=0/1 (15 s, ../registration.ts radioReset), AT+CCLK? (9 s, ../cclk.ts).

import type { Cmd } from '../../at/engine';

// ---- V.25ter and profile (ATM ch. 2; FACTS §B.1) ----
/** echo off; ATM §2.2 "-" */
export const ECHO_OFF = 'ATE0';
/** the baud rate the firmware fixes (a factory SIM800 is in autobaud, HW §3.5.1) */
export const BAUD = 115200;
/** ATM §2.2 "-": fixed baud rate, read and set */
export const IPR_READ = 'AT+IPR?';
export const IPR_SET = 'AT+IPR=115200';
/** network time (NITZ) into the RTC and *PSUTTZ URCs (FACTS §B.1) [unverified time] */
export const CLTS_READ = 'AT+CLTS?';
export const CLTS_ON = 'AT+CLTS=1';
/** keep IPR and CLTS across power cycles; ATM §2.2 "-" */
export const SAVE_PROFILE = 'AT&W';
/** +CME ERROR: <n> instead of a bare ERROR [unverified time] */
export const CMEE = 'AT+CMEE=1';
/** +CREG: <stat> URCs (3GPP 27.007) [unverified time] */
export const CREG_URCS = 'AT+CREG=1';

/** diagnostics.ts: model, revision, ICCID (ATM §2.2, §3.2; [unverified times]) */
export const IDENT = ['ATI', 'AT+CGMR', 'AT+CCID'];

// ---- TCP/IP, CIP stack (ATM ch. 8; FACTS §B.2) ----
/** every link and the PDP context dropped: "SHUT OK", not OK; ATM §8.2.7: 65 s. mayFail: recovery */
export function cipShut(mayFail?: 1): Cmd {
  return {
    at: 'AT+CIPSHUT',
    ms: 65000,
    fin: function (l) {
      return l == 'SHUT OK' ? 1 : 0;
    },
    mayFail: mayFail,
  };
}
// CIPMUX, CIPQSEND, CIPRXGET=1, CSTT: only in IP INITIAL, local [unverified times]
/** multi-link: link 0 only is used */
export const CIPMUX = 'AT+CIPMUX=1';
/** quick send: CIPSEND answers "DATA ACCEPT:0,<len>" when the modem has the bytes, not after the
 *  server's TCP ACK (a GPRS round trip that can outlast 10 s); as TINYGSM ("no extra Send OK") */
export const CIPQSEND = 'AT+CIPQSEND=1';
/** manual receive: "+CIPRXGET: 1,0" once, then CIPRXGET=2 reads */
export const CIPRXGET_MANUAL = 'AT+CIPRXGET=1';
export function cstt(apn: string): string {
  return 'AT+CSTT="' + apn + '"';
}
/** GPRS up; ATM §8.2.10: 85 s */
export function ciicr(): Cmd {
  return { at: 'AT+CIICR', ms: 85000 };
}
/** the IP address alone, with no OK after it (FACTS §B.2); ATM §8.2.11 "-" */
export function cifsr(cb: (err: any, lines: string[]) => void): Cmd {
  return {
    at: 'AT+CIFSR',
    fin: function (l) {
      const p = l.split('.');
      return p.length == 4 && parseInt(p[3], 10) >= 0 ? 1 : 0;
    },
    cb: cb,
  };
}

/** "0, SEND OK" and "0,SEND OK" → "SEND OK" for link 0; '' for anything else (real modems print
 *  the space, the manual does not: FACTS §B.2). */
export function linkEvent(line: string): string {
  return line.indexOf('0,') ? '' : line.substr(2).trim();
}

/** TLS 1.0 without SNI (SSL-AN; FACTS §B.3) for links opened after it [unverified time] */
export function cipSsl(tls: boolean): string {
  return 'AT+CIPSSL=' + (tls ? 1 : 0);
}
/** link 0 to host:port. OK, then "0, CONNECT OK" | "0, ALREADY CONNECT" | "0, CONNECT FAIL";
 *  "0, CLOSED" (the context dropped) or "0, CLOSE OK" (TINYGSM: a failed SSL handshake) end it
 *  too. ATM §8.2.2: "When mode is multi-IP state, the max response time 75 seconds" (for the OK
 *  and for the result after it). */
export function cipStart(host: string, port: number, cb: (err: any) => void): Cmd {
  return {
    at: 'AT+CIPSTART=0,"TCP","' + host + '",' + port,
    ms: 75000,
    holdOk: true,
    doneMs: 75000,
    fin: function (l) {
      const ev = linkEvent(l);
      return ev == 'CONNECT OK' || ev == 'ALREADY CONNECT' ? 1 : ev == 'CONNECT FAIL' || ev == 'CLOSE OK' || ev == 'CLOSED' ? -1 : 0;
    },
    cb: cb,
  };
}
/** bytes per CIPSEND: AT+CIPSEND? reports 1460 on a connected link (FACTS §B.2) */
export const MAX_SEND = 1460;
/** "> ", exactly the bytes, then "DATA ACCEPT:0,<len>" (quick send) | "0, SEND OK" | "0, SEND FAIL".
 *  ATM §8.2.3's time is for CIPQSEND=0 only ("after 645 seconds, CLOSE will be reported"); quick
 *  send answers once the modem has the bytes: 10 s is for the prompt (LilyGO waits 10 s) and them. */
export function cipSend(piece: string, cb: (err: any) => void): Cmd {
  return {
    at: 'AT+CIPSEND=0,' + piece.length,
    data: piece,
    ms: 10000,
    fin: function (l) {
      const ev = linkEvent(l);
      return ev == 'SEND OK' || l.indexOf('DATA ACCEPT:0,') == 0 ? 1 : ev == 'SEND FAIL' ? -1 : 0;
    },
    cb: cb,
  };
}
/** up to MAX_SEND bytes of link 0: "+CIPRXGET: 2,0,<got>,<left>", <got> raw bytes, OK; ATM §8.2.26
 *  gives no time [unverified] */
export function cipRxGet(cb: (err: any, lines: string[]) => void): Cmd {
  return {
    at: 'AT+CIPRXGET=2,0,1460',
    raw: function (l) {
      const f = l.split(',');
      return f.length >= 4 ? parseInt(f[2], 10) : 0;
    },
    cb: cb,
  };
}
/** "0, CLOSE OK"; on a link already closed "+CME ERROR: operation not allowed" (FACTS §B.2): closed
 *  either way. ATM §8.2.6 "-" */
export function cipClose(cb: () => void): Cmd {
  return {
    at: 'AT+CIPCLOSE=0',
    fin: function (l) {
      return linkEvent(l) == 'CLOSE OK' ? 1 : 0;
    },
    cb: cb,
  };
}
