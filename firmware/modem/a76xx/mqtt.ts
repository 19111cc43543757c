// MQTT through the A76xx's own stack (CMQTT*, A76XX AT manual ch. 18 and 19; docs/modem-facts.md
// §A.4-A.7), as chat scripts. The commands, their times and manual sections: commands.ts.
//
// The two settings that cost a SIM7670G owner days with Azure and HiveMQ are here on purpose:
//   AT+CSSLCFG="enableSNI",0,1    the stack sends no server name unless told to
//   AT+CMQTTCFG="version",0,4     the stack speaks MQTT 3.1 unless told to speak 3.1.1

import type { At } from '../../at/engine';
import type { BrokerConfig } from '../../config';
import { errorText } from '../../at/errors';
import { script, Line } from '../../at/script';
import { createJobQueue, Next } from '../../series';
import { log } from '../../log';
import { storedPem } from '../../store/secrets';
import { SESSION_LOST, DATA_LOST } from '../causes';
import {
  ccertlist,
  ccertdown,
  csslcfg,
  enableSni,
  cmqttstart,
  cmqttstop,
  cmqttaccq,
  cmqttrel,
  CMQTTSSLCFG,
  CMQTTCFG_VERSION,
  willTopic,
  willMsg,
  cmqttconnect,
  cmqttdisc,
  cmqttdiscEnd,
  cmqttpublish,
  cmqttsub,
  NEGOTIATE_S,
  MAX_TOPIC,
  MAX_PAYLOAD,
  URC,
} from './commands';

export interface Incoming {
  (topic: string, payload: string): void;
}

/** the lines that let client 0 go, whatever state it is in (session, then client), then `last`:
 *  one parameter, as it stays alive (a function's RAM grows with its parameters) */
function release(last: Line): Line[] {
  return [cmqttdisc(), cmqttrel(), last];
}

/** password: given per connect, because an Azure SAS token is made fresh each time */
export function mqttConnect(
  at: At,
  b: BrokerConfig,
  password: string | undefined,
  will: { topic: string; payload: string } | null,
  done: (err: string | null) => void,
) {
  const accq = cmqttaccq(b.clientId, b.tls);
  const ca = b.caName;
  const cert = b.clientCert ? b.clientCert.name : '';
  // the files the TLS settings name, in the order of their CSSLCFG settings; '' or undefined: none
  const files = [ca, cert, b.clientKey ? b.clientKey.name : ''];
  const lines: Line[] = [
    // "already started" answers a bare ERROR: not a failure, the next commands tell
    function (next: Next) {
      at.send(
        cmqttstart(function (err) {
          next(err && err.kind != 'error' ? errorText(err) : null);
        }),
      );
    },
  ];
  if (b.tls) {
    lines.push(
      // upload the files the modem does not have yet (CA, client certificate and key), from
      // Storage. Names carry a hash of the content, so a changed file gets a new name and is
      // uploaded; an unchanged one never.
      function (next: Next) {
        if (!ca && !cert) return next();
        at.send(
          ccertlist(function (err, got) {
            if (err) return next(errorText(err));
            const have = got.join();
            const uploads: Line[] = [];
            let missing = '';
            // forEach, not a loop: terser puts ccertdown here only outside loops (no function left at rest)
            files.forEach(function (name) {
              if (!name || missing || have.indexOf('"' + name + '"') >= 0) return;
              const pem = storedPem(name);
              if (!pem) {
                missing = name;
                return;
              }
              log('tls: uploading ' + name);
              uploads.push(ccertdown(name, pem));
            });
            if (missing)
              return next('tls: ' + missing + ' is not on the modem and not in Storage (cp.' + missing + '): flash the board again with npm run flash');
            script(at, uploads, next);
          }),
        );
      },
      csslcfg('sslversion', 3), // TLS 1.2 only
      // authmode 1: verify the server; 2: and present our certificate (§19.2.1)
      csslcfg('authmode', cert ? 2 : ca ? 1 : 0),
      csslcfg('negotiatetime', NEGOTIATE_S),
    );
    files.forEach(function (name, i) {
      if (name) lines.push(csslcfg(['cacert', 'clientcert', 'clientkey'][i], '"' + name + '"'));
    });
    if (b.sni) lines.push(enableSni());
  }
  lines.push(function (next: Next) {
    at.send({
      at: accq,
      quiet: true, // fails routinely when client 0 is still held; handled below
      cb: function (err) {
        // client 0 still held (an ESP32 reboot, a session given up): let it go and take it again
        if (err) script(at, release(accq), next);
        else next();
      },
    });
  });
  if (b.tls) lines.push(CMQTTSSLCFG);
  lines.push(CMQTTCFG_VERSION);
  if (will) lines.push(willTopic(will.topic), willMsg(will.payload));
  lines.push(cmqttconnect(b, password));
  script(at, lines, done);
}

export function mqttSubscribe(at: At, topics: string[], qos: number, done: (err: string | null) => void) {
  script(
    at,
    topics.map(function (topic) {
      return cmqttsub(topic, qos);
    }),
    done,
  );
}

/** Recovery: session, client and stack let go of, whatever state they are in. */
export function mqttReset(at: At, done: () => void) {
  script(at, release(cmqttstop()), done);
}

export function mqttDisconnect(at: At, done: () => void) {
  script(at, [cmqttdiscEnd()], done);
}

const publishJobs = createJobQueue();

/** QoS 1 is done only when the broker's PUBACK came back (+CMQTTPUB: 0,0). One at a time: the
 *  topic and payload are the modem's buffers until PUB. */
export function mqttPublish(at: At, topic: string, payload: string, qos: number, retain: boolean, done: (err: string | null) => void) {
  publishJobs(function (next) {
    script(at, cmqttpublish(topic, payload, qos, retain), next);
  }, done);
}

/** Incoming PUBLISH: +CMQTTRXSTART, then topic and payload in length-prefixed raw chunks, then
 *  +CMQTTRXEND (§18.4); the session's end (+CMQTTCONNLOST, +CMQTTNONET) and the bearer's (+CGEV).
 *  One handler for them all: one closure alive after connect, not seven. */
export function mqttListen(at: At, onMessage: Incoming, onLost: (why: string, cause: number) => void) {
  let topic = '';
  let payload = '';
  function urc(line: string) {
    const c = line.indexOf(',');
    // the prefixes registered below: '+CGEV:', '+CMQTTCONNLOST:', '+CMQTTNONET', '+CMQTTRX…'
    const k = line.charAt(6);
    if (line.charAt(2) == 'G') {
      if (cgevDown(line)) onLost('data connection dropped (' + line + ')', DATA_LOST);
    } else if (k == 'C') {
      onLost('connection lost (cause ' + line.substr(c + 1) + ')', SESSION_LOST);
    } else if (k == 'N') {
      onLost('network lost (+CMQTTNONET)', DATA_LOST);
    } else {
      // '+CMQTTRX' + START, TOPIC, PAYLOAD or END
      const r = line.charAt(8);
      if (r == 'S') {
        topic = payload = '';
      } else if (r == 'E') {
        const t = topic;
        const p = payload;
        topic = payload = '';
        // parts that piled up without RXSTART between them (lost lines) are not one message
        if (t.length > MAX_TOPIC || p.length > MAX_PAYLOAD) return log('mqtt: dropped a garbled incoming message');
        onMessage(t, p);
      } else {
        at.readRaw(parseInt(line.substr(c + 1), 10), function (d) {
          if (r == 'T') topic += d;
          else payload += d;
        });
      }
    }
  }
  'RXSTART:,RXTOPIC:,RXPAYLOAD:,RXEND:,CONNLOST:,NONET'.split(',').forEach(function (p) {
    at.on(URC + p, urc);
  });
  at.on('+CGEV:', urc);
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
