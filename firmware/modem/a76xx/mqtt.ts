// MQTT through the A76xx's own stack (CMQTT*, A76XX AT manual ch. 18 and 19; docs/modem-facts.md
// §A.4-A.7). Client index 0 and SSL context 0 throughout.
//
// Timeouts: each command's "Max Response Time" from the manual, in a comment beside it; where the
// manual gives "-" the figure says where it comes from.
//
// The two settings that cost a SIM7670G owner days with Azure and HiveMQ are here on purpose:
//   AT+CSSLCFG="enableSNI",0,1    the stack sends no server name unless told to
//   AT+CMQTTCFG="version",0,4     the stack speaks MQTT 3.1 unless told to speak 3.1.1

import type { At } from '../../at/engine';
import type { BrokerConfig } from '../../config';
import { errorText, AtError } from '../../at/errors';
import { series, createJobQueue, Next, Step } from '../../series';
import { cmd, tolerant } from '../../at/step';
import { log } from '../../log';
import { storedPem } from '../../store/secrets';
import { SESSION_LOST, DATA_LOST } from '../causes';

const SSL_MS = 120000; // CSSLCFG, CCERTDOWN, CCERTLIST: Max Response Time 120000ms (§19.2.1-19.2.3)
const MQTT_MS = 12000; // CMQTTSTART/STOP: Max Response Time 12000ms (§18.2.1-18.2.2)
// The other CMQTT commands give "-": the engine's default for the quick local ones (ACCQ, REL,
// SSLCFG, CFG; the data commands get the engine's data-command minimum), and for the OK of the
// commands that talk to the server, 30 s as LilyGO waits for CONNECT's (TinyGsmMqttA76xx.h).
const OK_MS = 30000;
// The TLS negotiation may take "<negotiatetime> ... 10-300 seconds. The default value is 300"
// (§19.2.1): set below the firmware's own wait for +CMQTTCONNECT, so the modem reports its code
// (32 handshake fail) first instead of the firmware giving up blind.
const NEGOTIATE_S = 40;
const CONNECT_MS = 75000; // negotiatetime + the TCP connect and CONNACK
const DISC_S = 10; // AT+CMQTTDISC=0,<timeout>: 1..180 s

export interface Incoming {
  (topic: string, payload: string): void;
}

/** 'AT+CMQTTTOPIC=0,' + length, then exactly those bytes after the '>' prompt. */
function withData(at: At, head: string, data: string): Step {
  return cmd(at, { at: head + data.length, data: data });
}

/** Upload the files the modem does not have yet (CA, client certificate and key), from Storage.
 *  Names carry a hash of the content, so a changed file gets a new name and is uploaded; an
 *  unchanged one never. */
function ensureFiles(at: At, names: string[]): Step {
  return function (next) {
    at.send({
      at: 'AT+CCERTLIST',
      ms: SSL_MS,
      cb: function (err, lines) {
        if (err) return next(errorText(err));
        const have = lines.join();
        const uploads: Step[] = [];
        for (let i = 0; i < names.length; i++) {
          const name = names[i];
          if (have.indexOf('"' + name + '"') >= 0) continue;
          const pem = storedPem(name);
          if (!pem) return next('tls: ' + name + ' is not on the modem and not in Storage (cp.' + name + '): flash the board again with npm run flash');
          log('tls: uploading ' + name);
          // one write: the build keeps each PEM within the 3072 bytes a packet may carry (§19.2.2)
          uploads.push(cmd(at, { at: 'AT+CCERTDOWN="' + name + '",' + pem.length, data: pem, ms: SSL_MS }));
        }
        series(uploads, next);
      },
    });
  };
}

/** password: given per connect, because an Azure SAS token is made fresh each time */
export function mqttConnect(
  at: At,
  b: BrokerConfig,
  password: string | undefined,
  will: { topic: string; payload: string } | null,
  done: (err: string | null) => void,
) {
  const steps: Step[] = [
    // "already started" answers a bare ERROR: not a failure, the next commands tell
    function (next: Next) {
      at.send({
        at: 'AT+CMQTTSTART',
        quiet: true,
        ms: MQTT_MS,
        done: '+CMQTTSTART: ',
        doneMs: MQTT_MS,
        cb: function (err: AtError | null) {
          if (err && err.kind != 'error') return next(errorText(err));
        next();
        },
      });
    },
  ];
  if (b.tls) {
    const files: string[] = [];
    if (b.caName) files.push(b.caName);
    if (b.clientCert) files.push(b.clientCert.name, b.clientKey!.name);
    if (files.length) steps.push(ensureFiles(at, files));
    const ssl = function (set: string) {
      steps.push(cmd(at, { at: 'AT+CSSLCFG="' + set, ms: SSL_MS }));
    };
    ssl('sslversion",0,3'); // TLS 1.2 only
    // authmode 1: verify the server; 2: and present our certificate (A76XX AT manual §19.2.1)
    ssl('authmode",0,' + (b.clientCert ? 2 : b.caName ? 1 : 0));
    ssl('negotiatetime",0,' + NEGOTIATE_S);
    if (b.caName) ssl('cacert",0,"' + b.caName + '"');
    if (b.clientCert) {
      ssl('clientcert",0,"' + b.clientCert.name + '"');
      ssl('clientkey",0,"' + b.clientKey!.name + '"');
    }
    if (b.sni) steps.push(cmd(at, { at: 'AT+CSSLCFG="enableSNI",0,1', ms: SSL_MS }));
  }
  const accq = 'AT+CMQTTACCQ=0,"' + b.clientId + '",' + (b.tls ? 1 : 0);
  steps.push(function (next: Next) {
    at.send({
      at: accq,
      quiet: true, // fails routinely when client 0 is still held; handled below
      cb: function (err) {
        if (!err) return next();
        // client 0 still held (an ESP32 reboot, a session given up): let it go and take it again
        series([disc(at), tolerant(at, { at: 'AT+CMQTTREL=0' }), cmd(at, { at: accq })], next);
      },
    });
  });
  if (b.tls) steps.push(cmd(at, { at: 'AT+CMQTTSSLCFG=0,0' })); // cleared by a failed CONNECT: set every time
  steps.push(cmd(at, { at: 'AT+CMQTTCFG="version",0,4' }));
  if (will) {
    steps.push(withData(at, 'AT+CMQTTWILLTOPIC=0,', will.topic));
    steps.push(cmd(at, { at: 'AT+CMQTTWILLMSG=0,' + will.payload.length + ',1', data: will.payload }));
  }
  let connect = 'AT+CMQTTCONNECT=0,"tcp://' + b.host + ':' + b.port + '",' + b.keepalive + ',' + (b.cleanSession ? 1 : 0);
  if (b.username) connect += ',"' + b.username + '"' + (password ? ',"' + password + '"' : '');
  steps.push(cmd(at, { at: connect, hide: true, done: '+CMQTTCONNECT: 0,', ms: OK_MS, doneMs: CONNECT_MS }));
  series(steps, done);
}

export function mqttSubscribe(at: At, topics: string[], qos: number, done: (err: string | null) => void) {
  const steps: Step[] = [];
  for (let i = 0; i < topics.length; i++) {
    // the result within optimeout (default 120 s, §18.2.11)
    steps.push(cmd(at, { at: 'AT+CMQTTSUB=0,' + topics[i].length + ',' + qos, data: topics[i], done: '+CMQTTSUB: 0,', ms: OK_MS, doneMs: 125000 }));
  }
  series(steps, done);
}

/** DISC, done when "+CMQTTDISC: 0,<err>" is out: REL "must be called after AT+CMQTTDISC" (§18.2.4),
 *  and until that line the disconnect is still under way. Not connected: "+CMQTTDISC: 0,11" +
 *  ERROR at once. */
function disc(at: At) {
  return tolerant(at, { at: 'AT+CMQTTDISC=0,' + DISC_S, ms: OK_MS, done: '+CMQTTDISC: 0,', doneMs: DISC_S * 1000 + 5000 });
}

/** Recovery: session, client and stack let go of, whatever state they are in. */
export function mqttReset(at: At, done: () => void) {
  series([
    disc(at),
    tolerant(at, { at: 'AT+CMQTTREL=0' }),
    tolerant(at, { at: 'AT+CMQTTSTOP', ms: MQTT_MS, done: '+CMQTTSTOP: ', doneMs: MQTT_MS }),
  ], done);
}

export function mqttDisconnect(at: At, done: () => void) {
  at.send({ at: 'AT+CMQTTDISC=0,60', ms: OK_MS, done: '+CMQTTDISC: 0,', doneMs: 65000, quiet: true, cb: function () {
    done();
  } });
}

const publishJobs = createJobQueue();

/** QoS 1 is done only when the broker's PUBACK came back (+CMQTTPUB: 0,0). One at a time. */
export function mqttPublish(at: At, topic: string, payload: string, qos: number, retain: boolean, done: (err: string | null) => void) {
  publishJobs(function (next) {
    // CMQTTPAYLOAD takes 1..10240 bytes (§18.2.5): there is no empty message; callers send one byte
    // or more (the Azure twin GET sends "{}")
    const steps = [withData(at, 'AT+CMQTTTOPIC=0,', topic), withData(at, 'AT+CMQTTPAYLOAD=0,', payload)];
    steps.push(cmd(at, { at: 'AT+CMQTTPUB=0,' + qos + ',60' + (retain ? ',1' : ''), ms: OK_MS, done: '+CMQTTPUB: 0,', doneMs: 65000 }));
    series(steps, next);
  }, done);
}

const MAX_TOPIC = 1024; // the modem's limits (A76XX AT manual §18.2.5-18.2.6)
const MAX_PAYLOAD = 10240;

/** Incoming PUBLISH: +CMQTTRXSTART, then topic and payload in length-prefixed raw chunks. */
export function mqttListen(at: At, onMessage: Incoming, onLost: (why: string, cause: number) => void) {
  let topic = '';
  let payload = '';
  at.on('+CMQTTRXSTART:', function () {
    topic = '';
    payload = '';
  });
  at.on('+CMQTTRXTOPIC:', function (line) {
    at.readRaw(parseInt(line.substr(line.indexOf(',') + 1), 10), function (d) {
      topic += d;
    });
  });
  at.on('+CMQTTRXPAYLOAD:', function (line) {
    at.readRaw(parseInt(line.substr(line.indexOf(',') + 1), 10), function (d) {
      payload += d;
    });
  });
  at.on('+CMQTTRXEND:', function () {
    const t = topic;
    const p = payload;
    topic = payload = '';
    // parts that piled up without RXSTART between them (lost lines) are not one message
    if (t.length > MAX_TOPIC || p.length > MAX_PAYLOAD) return log('mqtt: dropped a garbled incoming message');
    onMessage(t, p);
  });
  at.on('+CMQTTCONNLOST:', function (line) {
    onLost('connection lost (cause ' + line.substr(line.indexOf(',') + 1) + ')', SESSION_LOST);
  });
  at.on('+CMQTTNONET', function () {
    onLost('network lost (+CMQTTNONET)', DATA_LOST);
  });
  at.on('+CGEV:', function (line) {
    if (cgevDown(line)) onLost('data connection dropped (' + line + ')', DATA_LOST);
  });
}

/** Does this +CGEV event (A76XX AT manual §5.2.15) take down what the MQTT stack uses: a PS
 *  detach ("NW DETACH"/"ME DETACH": "all active contexts have been deactivated"), or the end of
 *  cid 1, the default bearer? Other cids (8 comes up at boot: "+CGEV: ME PDN ACT 8,1") do not.
 *    NW|ME PDN DEACT <cid>[,...]                 NW|ME DEACT <PDP_type>,<PDP_addr>[,<cid>]
 *    NW|ME DEACT <p_cid>,<cid>,<event_type>      (a secondary context: the bearer stays) */
export function cgevDown(line: string): boolean {
  if (line.indexOf(' DETACH') > 0) return true;
  const d = line.indexOf('DEACT ');
  if (d < 0) return false;
  const a = line.substr(d + 6).split(',');
  if (line.indexOf('PDN DEACT') > 0) return parseInt(a[0], 10) == 1;
  // the PDP_type form; no cid given: it may be ours
  if (a[0].charAt(0) == '"') return a.length < 3 || parseInt(a[2], 10) == 1;
  return false;
}
