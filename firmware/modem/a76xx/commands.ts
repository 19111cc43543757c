// Every AT command the A76xx / SIM7670G family sends, with its time limits and where the
// A76XX AT Command Manual V1.09 describes it: the family as a command table, as Espressif's
// esp_modem declares its commands (esp_modem_command_declare.inc). net.ts and mqtt.ts say in
// what order they go (chat scripts, at/script.ts); this file says what each one is.
//
// Nothing here costs RAM at run time: string and number constants (terser puts them where they
// are used), and functions that build a fresh Cmd each time they are called. Never a Cmd object
// at module level: the script runner sets cb on it, so it must not be shared, and a table
// evaluated at load would sit in RAM for good.
//
// Times: each command's "Max Response Time" from the manual. The engine waits 9000 ms when none
// is given: the manual's figure for every 3GPP command here (CMEE, CTZU, CREG, CEREG, CGDCONT,
// CGATT, CICCID, CPSI). Where the manual gives "-", the figure says where it comes from.
//
// Shared with the SIM800 family (3GPP 27.007) and declared next to the code that polls them:
// AT+CPIN? / AT+CPIN="…" (§6.2.2), AT+CREG? (§4.2.1), AT+CEREG? (§5.2.2) and AT+CFUN=<fun>
// (§3.2.1) in ../registration.ts; AT+CCLK? (§3.2.10) in ../cclk.ts.

import type { Cmd } from '../../at/engine';
import type { BrokerConfig } from '../../config';

// ---- ch. 2-6, 14: from "answers AT" to registered, with the time set (docs/modem-facts.md §A.3)

/** ATE0, echo off: Max Response Time 120000 ms (§2.2.8) */
export function echoOff(): Cmd {
  return { at: 'ATE0', ms: 120000 };
}
/** numeric +CME ERROR codes (§3.2.11) */
export const CMEE = 'AT+CMEE=1';
/** the network's time zone and time update the clock (NITZ, §4.2.12) */
export const CTZU = 'AT+CTZU=1';
/** registration URCs on: +CEREG (§5.2.2), +CREG (§4.2.1) */
export const CEREG_ON = 'AT+CEREG=1';
export const CREG_ON = 'AT+CREG=1';
/** the stored PDP contexts, '+CGDCONT: 1,"IP","apn",…' (§5.2.5) */
export const CGDCONT_READ = 'AT+CGDCONT?';
/** the APN of cid 1, the LTE default bearer (§5.2.5; stored: AUTO_SAVE) */
export function cgdcont(apn: string): string {
  return 'AT+CGDCONT=1,"IP","' + apn + '"';
}
/** the NTP server, timezone argument 0: CNTP's default is 32 quarter hours, i.e. UTC+8 (§14.2.3) */
export function cntpServer(host: string): string {
  return 'AT+CNTP="' + host + '",0';
}
/** sync the clock by NTP: OK, then "+CNTP: <err>". Max Response Time "-" (§14.2.3): 65 s for
 *  the result, the NTP exchange and its retries. */
export function cntp(): Cmd {
  return { at: 'AT+CNTP', done: '+CNTP: ', doneMs: 65000 };
}
/** packet domain detach, then attach (§5.2.3); recovery: whatever they answer, go on */
export function cgattCycle(): Cmd[] {
  return [
    { at: 'AT+CGATT=0', mayFail: 1 },
    { at: 'AT+CGATT=1', mayFail: 1 },
  ];
}
/** diagnostics: identity (docs/modem-facts.md §A.3), ICCID (§6.2.1), serving cell (§4.2.9) */
export const SIMCOMATI = 'AT+SIMCOMATI';
export const CICCID = 'AT+CICCID';
export const CPSI = 'AT+CPSI?';

// ---- ch. 19: SSL contexts and certificates (docs/modem-facts.md §A.7). Context 0 throughout.

/** CSSLCFG, CCERTDOWN, CCERTLIST: Max Response Time 120000 ms (§19.2.1-19.2.3) */
const SSL_MS = 120000;
/** The TLS negotiation may take "<negotiatetime> ... 10-300 seconds. The default value is 300"
 *  (§19.2.1): set below the firmware's own wait for +CMQTTCONNECT, so the modem reports its code
 *  (32 handshake fail) first instead of the firmware giving up blind. */
export const NEGOTIATE_S = 40;

/** the certificates the modem holds: '+CCERTLIST: "name"' lines (§19.2.3) */
export function ccertlist(cb: Cmd['cb']): Cmd {
  return { at: 'AT+CCERTLIST', ms: SSL_MS, cb: cb };
}
/** one file written in one go: the build keeps each PEM within the 3072 bytes a packet may carry (§19.2.2) */
export function ccertdown(name: string, pem: string): Cmd {
  return { at: 'AT+CCERTDOWN="' + name + '",' + pem.length, data: pem, ms: SSL_MS };
}
/** AT+CSSLCFG="<setting>",0,<value> (§19.2.1) */
export function csslcfg(setting: string, value: string | number): Cmd {
  return { at: 'AT+CSSLCFG="' + setting + '",0,' + value, ms: SSL_MS };
}
/** the server name in the ClientHello: the stack sends none unless told to (§19.2.1) */
export function enableSni(): Cmd {
  return { at: 'AT+CSSLCFG="enableSNI",0,1', ms: SSL_MS };
}

// ---- ch. 18: MQTT(S) through the modem's own stack (docs/modem-facts.md §A.4-A.6). Client 0.

/** every command of the chapter starts so, and every result line so ('+CMQTTPUB: 0,0') */
export const URC = '+CMQTT';
const CMQTT = 'AT' + URC;
/** CMQTTSTART/STOP: Max Response Time 12000 ms (§18.2.1-18.2.2), for the OK and for the result */
const MQTT_MS = 12000;
/** The other CMQTT commands give "-": the engine's default for the quick local ones (ACCQ, REL,
 *  SSLCFG, CFG; the data commands get the engine's data-command minimum), and for the OK of the
 *  commands that talk to the server, 30 s as LilyGO waits for CONNECT's (TinyGsmMqttA76xx.h). */
const OK_MS = 30000;
/** AT+CMQTTDISC=0,<timeout>: 1..180 s (§18.2.3) */
const DISC_S = 10;

/** start the stack: OK, then "+CMQTTSTART: 0". Already started: a bare ERROR (§18.2.1). */
export function cmqttstart(cb: Cmd['cb']): Cmd {
  return { at: CMQTT + 'START', quiet: true, ms: MQTT_MS, done: URC + 'START: ', doneMs: MQTT_MS, cb: cb };
}
/** stop the stack: OK, then "+CMQTTSTOP: 0" (§18.2.2); recovery: whatever it answers, go on */
export function cmqttstop(): Cmd {
  return { at: CMQTT + 'STOP', ms: MQTT_MS, done: URC + 'STOP: ', doneMs: MQTT_MS, mayFail: 1 };
}
/** take client 0 (§18.2.3); server type 1: SSL/TLS */
export function cmqttaccq(clientId: string, tls: boolean | undefined): string {
  return CMQTT + 'ACCQ=0,"' + clientId + '",' + (tls ? 1 : 0);
}
/** let client 0 go; "must be called after AT+CMQTTDISC" (§18.2.4). Recovery: go on whatever it answers. */
export function cmqttrel(): Cmd {
  return { at: CMQTT + 'REL=0', mayFail: 1 };
}
/** client 0 on SSL context 0 (§18.2.5); a failed CONNECT clears it, so it is set every time */
export const CMQTTSSLCFG = 'AT+CMQTTSSLCFG=0,0';
/** MQTT 3.1.1: the stack speaks 3.1 unless told to (§18.2.11) */
export const CMQTTCFG_VERSION = 'AT+CMQTTCFG="version",0,4';
/** the will's topic and message (qos 1), the bytes after the '>' prompt (§18.2.6-18.2.7) */
export function willTopic(topic: string): Cmd {
  return { at: CMQTT + 'WILLTOPIC=0,' + topic.length, data: topic };
}
export function willMsg(payload: string): Cmd {
  return { at: CMQTT + 'WILLMSG=0,' + payload.length + ',1', data: payload };
}
/** OK, then "+CMQTTCONNECT: 0,<err>" (§18.2.2 [sic]); the result within negotiatetime plus the
 *  TCP connect and CONNACK. The text holds the password: hidden in logs. */
export function cmqttconnect(b: BrokerConfig, pass: string | undefined): Cmd {
  let at = CMQTT + 'CONNECT=0,"tcp://' + b.host + ':' + b.port + '",' + b.keepalive + ',' + (b.cleanSession ? 1 : 0);
  if (b.username) at += ',"' + b.username + '"' + (pass ? ',"' + pass + '"' : '');
  return { at: at, hide: true, done: URC + 'CONNECT: 0,', ms: OK_MS, doneMs: NEGOTIATE_S * 1000 + 35000 };
}
/** DISC, done when "+CMQTTDISC: 0,<err>" is out: until that line the disconnect is still under
 *  way. Not connected: "+CMQTTDISC: 0,11" + ERROR at once (§18.2.3). Recovery: go on whatever it
 *  answers. */
export function cmqttdisc(): Cmd {
  return { at: CMQTT + 'DISC=0,' + DISC_S, ms: OK_MS, done: URC + 'DISC: 0,', doneMs: DISC_S * 1000 + 5000, mayFail: 1 };
}
/** the orderly end: the broker is told, 60 s for it (§18.2.3); whatever it answers, the session is over */
export function cmqttdiscEnd(): Cmd {
  return { at: CMQTT + 'DISC=0,60', ms: OK_MS, done: URC + 'DISC: 0,', doneMs: 65000, mayFail: 1 };
}
/** a publish, three commands: topic (at most 1024 bytes, §18.2.4), payload (1..10240 bytes: there
 *  is no empty message, §18.2.5), then PUB with pub_timeout 60 s, whose result "+CMQTTPUB: 0,<err>"
 *  comes when the broker's PUBACK did (§18.2.6). The data commands get the engine's data-command
 *  minimum for their '>' prompt. */
export function cmqttpublish(topic: string, payload: string, qos: number, retain: boolean): Cmd[] {
  return [
    { at: CMQTT + 'TOPIC=0,' + topic.length, data: topic },
    { at: CMQTT + 'PAYLOAD=0,' + payload.length, data: payload },
    { at: CMQTT + 'PUB=0,' + qos + ',60' + (retain ? ',1' : ''), ms: OK_MS, done: URC + 'PUB: 0,', doneMs: 65000 },
  ];
}
/** subscribe one topic; the result within optimeout (default 120 s, §18.2.8, §18.2.11) */
export function cmqttsub(topic: string, qos: number): Cmd {
  return { at: CMQTT + 'SUB=0,' + topic.length + ',' + qos, data: topic, done: URC + 'SUB: 0,', ms: OK_MS, doneMs: 125000 };
}
/** the longest topic and message the modem takes in (§18.2.4-18.2.5) */
export const MAX_TOPIC = 1024;
export const MAX_PAYLOAD = 10240;
