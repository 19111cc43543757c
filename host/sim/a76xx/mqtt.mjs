// The CMQTT* command set and its state machine (A76-ATM ch. 18; modem-facts.md §A.4-A.6).
//
// Error shapes, as the manual lists them per command and as the real captures show:
//   - before AT+CMQTTSTART every other CMQTT write/read/exec command: bare ERROR (§18.2.1 NOTE)
//   - START while started: bare ERROR (§18.2.1 case 3)
//   - syntax / out-of-range parameters (index, lengths, counts): bare ERROR. Field log b: a
//     CONNECT with an empty password ("", allowed range 1..256) answered a bare ERROR.
//   - state errors: "+CMQTTxxx: <idx>,<err>" then ERROR, e.g. REL on a client never acquired
//     -> "+CMQTTREL: 0,20" / ERROR [LG-AZ-LOG]; CONNECT with "ssl://" -> "+CMQTTCONNECT: 0,12" /
//     ERROR [field log a].
//   - ACCQ on a client already acquired: bare ERROR. Field log a shows START -> ERROR, ACCQ ->
//     ERROR, SSLCFG -> OK: consistent only with a service (and client 0) left running by an
//     earlier session [inferred].
//   - async results: OK first, then "+CMQTTxxx: <idx>,<err>" (START, STOP, CONNECT, DISC, PUB,
//     SUB, UNSUB).
// Codes chosen where the manual names no case [inferred from the code names in §18.3.1]:
//   not acquired 20, not connected 11 (no connection), already connecting/connected 19 (client
//   is used), REL while connected 14 (busy), STOP with a client still acquired 21 (not
//   released), PUB without topic 18 (topic is empty), bad UTF-8 topic 2, START without a data
//   bearer 7 (network open fail).

import { int, str } from '../common/at-parse.mjs';
import { MQTT_ERR, CONNLOST } from './errors.mjs';
import { openLink } from './mqtt-link.mjs';
import net from 'node:net';

const utf8ok = (bin) => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(bin, 'latin1'));
    return true;
  } catch {
    return false;
  }
};

const TEST = {
  '+CMQTTACCQ': '+CMQTTACCQ: (0-1),(1-128)[,(0-1)]',
  '+CMQTTREL': '+CMQTTREL: (0-1)',
  '+CMQTTSSLCFG': '+CMQTTSSLCFG: (0,1),(0-9)',
  '+CMQTTWILLTOPIC': '+CMQTTWILLTOPIC: (0-1),(1-1024)',
  '+CMQTTWILLMSG': '+CMQTTWILLMSG: (0-1),(1-1024),(0-2)',
  '+CMQTTCONNECT': '+CMQTTCONNECT: (0-1),(9-256),(1-64800),(0-1)[,<user_name>,<pass_word>]',
  '+CMQTTDISC': '+CMQTTDISC: (0-1),(0,1-180)',
  '+CMQTTTOPIC': '+CMQTTTOPIC: (0-1),(1-1024)',
  '+CMQTTPAYLOAD': '+CMQTTPAYLOAD: (0-1),(1-10240)',
  '+CMQTTPUB': '+CMQTTPUB: (0-1),(0-2),(1-180),(0-1),(0-1)',
  '+CMQTTSUBTOPIC': '+CMQTTSUBTOPIC: (0-1),(1-1024),(0-2)',
  '+CMQTTSUB': '+CMQTTSUB: (0-1),(1-1024),(0-2),(0-1)',
  '+CMQTTUNSUBTOPIC': '+CMQTTUNSUBTOPIC: (0-1),(1-1024)',
  '+CMQTTUNSUB': '+CMQTTUNSUB: (0-1),(1-1024),(0-1)',
};

const defaultCfg = () => ({ checkUTF8: 1, optimeout: 120, version: 3 }); // §18.2.11 defaults

function newClient() {
  return {
    acquired: false,
    id: '',
    type: 0,
    cfg: defaultCfg(),
    will: { topic: null, msg: null, qos: 0 },
    topic: null,
    payload: null,
    subs: [],
    unsubs: [],
    conn: 'idle', // idle | connecting | connected | disconnecting
    link: null,
    params: null, // CONNECT parameters for the read form
    held: [], // messages that arrived before +CMQTTCONNECT: <idx>,0 was printed
  };
}

export function createMqtt(m, ssl, network) {
  const o = m.opts;
  const rxChunk = o.rxChunk ?? 1500; // chunk size not documented (modem-facts §A.5, §E.2)
  const discOrder = o.discOrder ?? 'ok-first'; // both orders allowed by §18.2.3 (§E.3)
  const tm = { startMs: 200, stopMs: 100, rttMs: 100, ...(o.mqttTiming || {}) };
  const dns = o.dns || {};
  const realWaitMs = o.realWaitMs ?? 5000;

  const faults = { pubTimeout: null }; // { count, delivered } (index.mjs pubTimeout)

  let started = false;
  let starting = false;
  let clients = [newClient(), newClient()];
  let sslcfg = [null, null];

  const idxOf = (p) => {
    const i = int(p);
    return i === 0 || i === 1 ? i : null;
  };

  function reset() {
    for (const c of clients) if (c.link) c.link.destroy();
    started = false;
    starting = false;
    clients = [newClient(), newClient()];
    sslcfg = [null, null];
  }

  // Where a URL host goes for real: names through options.dns; loopback literals directly; any
  // other address is treated as unreachable so that tests never touch the internet.
  function resolve(host, port) {
    const e = dns[host] || dns[host.toLowerCase()];
    if (e) return { address: { host: e.host, port: e.port ?? port } };
    if (net.isIP(host)) {
      if (/^127\.|^::1$/.test(host)) return { address: { host, port } };
      return { err: MQTT_ERR.SOCK_CONNECT };
    }
    return { err: MQTT_ERR.DNS };
  }

  function emitRx(i, topic, payload) {
    // A76-ATM §18.4; A76-MQTT-AN §3.5: each header line, then the raw bytes, then CRLF; no
    // RXPAYLOAD block for an empty payload.
    let t = `\r\n+CMQTTRXSTART: ${i},${topic.length},${payload.length}\r\n`;
    for (let k = 0; k < topic.length; k += rxChunk) {
      const ch = topic.slice(k, k + rxChunk);
      t += `+CMQTTRXTOPIC: ${i},${ch.length}\r\n${ch}\r\n`;
    }
    for (let k = 0; k < payload.length; k += rxChunk) {
      const ch = payload.slice(k, k + rxChunk);
      t += `+CMQTTRXPAYLOAD: ${i},${ch.length}\r\n${ch}\r\n`;
    }
    t += `+CMQTTRXEND: ${i}\r\n`;
    m.stats.rxMessages++;
    m.raw(t);
  }

  function lost(i, cause) {
    const cl = clients[i];
    if (cl.conn !== 'connected') return;
    cl.conn = 'idle';
    cl.link = null;
    m.urc(`+CMQTTCONNLOST: ${i},${cause}`);
  }

  function connect(i, host, port, r) {
    const cl = clients[i];
    cl.conn = 'connecting';
    const end = m.beginOp('CMQTTCONNECT');
    const gen = m.gen();
    const tlsUsed = cl.type === 1;
    const t0 = m.clock.now();
    const result = (err, delay) => {
      m.after(delay, () => {
        end();
        if (err === 0) {
          cl.conn = 'connected';
          m.urc(`+CMQTTCONNECT: ${i},0`);
          const held = cl.held.splice(0);
          for (const [tp, pl] of held) emitRx(i, tp, pl);
        } else {
          cl.conn = 'idle';
          sslcfg[i] = null; // "cleared after AT+CMQTTCONNECT failed" (§18.2.5)
          if (cl.link) cl.link.destroy();
          cl.link = null;
          m.urc(`+CMQTTCONNECT: ${i},${err}`);
        }
      });
    };
    if (!network.dataReady()) return result(MQTT_ERR.NETWORK_OPEN, tm.rttMs);
    const res = resolve(host, port);
    if (res.err) return result(res.err, res.err === MQTT_ERR.DNS ? tm.rttMs * 2 : tm.rttMs * 10);
    let tlsOpts = null;
    if (tlsUsed) {
      // Without AT+CMQTTSSLCFG the context is the client index (§18.2.2 NOTE)
      const t = ssl.tlsFor(sslcfg[i] ?? i, host);
      if (t.err) return result(t.err, tm.rttMs);
      tlsOpts = t.tls;
    }
    const v = cl.cfg.version;
    const will =
      cl.will.topic != null && cl.will.msg != null
        ? { topic: Buffer.from(cl.will.topic, 'latin1').toString('utf8'), payload: Buffer.from(cl.will.msg, 'latin1'), qos: cl.will.qos, retain: false }
        : undefined;
    const p = cl.params;
    cl.link = openLink({
      clock: m.clock,
      realWaitMs,
      address: res.address,
      urlHost: host,
      tls: tlsOpts,
      mqtt: {
        clientId: cl.id,
        protocolId: v === 3 ? 'MQIsdp' : 'MQTT', // "version" 3 = MQTT 3.1, 4 = 3.1.1 (§18.2.11)
        protocolVersion: v,
        keepalive: p.keepalive,
        clean: p.clean === 1,
        username: p.user,
        password: p.pass === undefined ? undefined : Buffer.from(p.pass, 'latin1'),
        will,
      },
      onResult: (err, phase) => {
        if (m.gen() !== gen) return;
        // a server that takes the TCP connection but never finishes the TLS handshake: the modem
        // gives up after "<negotiatetime> The timeout value used in SSL negotiate stage. The
        // range is 10-300 seconds. The default value is 300." (A76-ATM §19.2.1), with 32
        // "handshake fail" (§18.3.1) [inferred code]
        if (phase === 'tls') return result(MQTT_ERR.HANDSHAKE, Math.max(0, tlsOpts.negotiateMs - (m.clock.now() - t0)));
        const rtts = err === 0 ? (tlsUsed ? 4 : 2) : 2;
        result(err, tm.rttMs * rtts);
      },
      onMessage: (topic, payload) => {
        if (m.gen() !== gen) return;
        if (cl.conn === 'connected') emitRx(i, topic, payload);
        else if (cl.conn === 'connecting') cl.held.push([topic, payload]);
      },
      onLost: (cause) => {
        if (m.gen() !== gen) return;
        lost(i, cause);
      },
    });
  }

  // Input commands: "<cmd>=<idx>,<len>[,<qos>]", ">" and exactly <len> bytes (§18.2.6-18.2.10)
  function input(c, r, name, max, store, { checkTopic = false, needQos = false } = {}) {
    const p = c.params;
    const i = idxOf(p[0]);
    const len = int(p[1]);
    const qos = needQos ? int(p[2]) : 0;
    if (p.length !== (needQos ? 3 : 2) || i === null || len === null || len < 1 || len > max || qos === null || qos < 0 || qos > 2) return r.error();
    const cl = clients[i];
    if (!cl.acquired) return r.fail(`${name}: ${i},${MQTT_ERR.NOT_ACQUIRED}`);
    r.prompt(len, (data, r2) => {
      if (checkTopic && cl.cfg.checkUTF8 && !utf8ok(data)) return r2.fail(`${name}: ${i},${MQTT_ERR.BAD_UTF8}`);
      store(cl, data, qos);
      r2.ok();
    });
  }

  function timedOp(i, name, timeoutMs, run, onEnd) {
    const end = m.beginOp(name);
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      m.clearTimer(timer);
      end();
      if (onEnd) onEnd(err);
      m.urc(`${name}: ${i},${err}`);
    };
    const timer = m.after(timeoutMs, () => finish(MQTT_ERR.TIMEOUT));
    run((err, delay) => m.after(delay, () => finish(err)));
  }

  function subscribe(i, list) {
    const cl = clients[i];
    timedOp(i, '+CMQTTSUB', cl.cfg.optimeout * 1000, (fin) =>
      cl.link.subscribe(
        list.map((s) => ({ topic: Buffer.from(s.topic, 'latin1').toString('utf8'), qos: s.qos })),
        (err) => fin(err ? MQTT_ERR.FAILED : 0, tm.rttMs),
      ),
    );
  }

  function unsubscribe(i, topics) {
    const cl = clients[i];
    timedOp(i, '+CMQTTUNSUB', cl.cfg.optimeout * 1000, (fin) =>
      cl.link.unsubscribe(
        topics.map((t) => Buffer.from(t, 'latin1').toString('utf8')),
        (err) => fin(err ? MQTT_ERR.FAILED : 0, tm.rttMs),
      ),
    );
  }

  const h = {
    '+CMQTTSTART'(c, r) {
      if (c.form !== 'exec') return r.error();
      if (started || starting) return r.error(); // §18.2.1 case 3
      starting = true;
      const end = m.beginOp('CMQTTSTART');
      r.ok();
      m.after(tm.startMs, () => {
        starting = false;
        end();
        if (!network.dataReady()) return m.urc(`+CMQTTSTART: ${MQTT_ERR.NETWORK_OPEN}`);
        started = true;
        m.urc('+CMQTTSTART: 0');
      });
    },
    '+CMQTTSTOP'(c, r) {
      if (c.form !== 'exec' || !started) return r.error(); // §18.2.2 case 3
      if (clients.some((x) => x.acquired)) return r.fail(`+CMQTTSTOP: ${MQTT_ERR.NOT_RELEASED}`);
      const end = m.beginOp('CMQTTSTOP');
      r.ok();
      m.after(tm.stopMs, () => {
        started = false;
        end();
        m.urc('+CMQTTSTOP: 0');
      });
    },
    '+CMQTTACCQ'(c, r) {
      if (c.form === 'read') return r.info(...clients.map((x, i) => `+CMQTTACCQ: ${i},"${x.acquired ? x.id : ''}",${x.type}`)).ok();
      const p = c.params;
      const i = idxOf(p[0]);
      const id = str(p[1]);
      const type = p.length > 2 ? int(p[2]) : 0;
      if (p.length < 2 || p.length > 3 || i === null || id === null || id.length < 1 || id.length > 128 || (type !== 0 && type !== 1)) return r.error();
      if (clients[i].acquired) return r.error(); // field log a [inferred]
      Object.assign(clients[i], newClient(), { acquired: true, id, type });
      r.ok();
    },
    '+CMQTTREL'(c, r) {
      if (c.form === 'read') return r.ok(); // §18.2.4 example
      const i = idxOf(c.params[0]);
      if (c.params.length !== 1 || i === null) return r.error();
      const cl = clients[i];
      if (!cl.acquired) return r.fail(`+CMQTTREL: ${i},${MQTT_ERR.NOT_ACQUIRED}`); // LG-AZ-LOG
      // "It must be called after AT+CMQTTDISC and before AT+CMQTTSTOP" (§18.2.4): while connected,
      // connecting, or with a DISC still waiting for its "+CMQTTDISC: <idx>,0", REL is refused
      // with "+CMQTTREL: <idx>,<err>" + ERROR (the manual's case 2); 14 "client is busy" [inferred code]
      if (cl.conn !== 'idle') return r.fail(`+CMQTTREL: ${i},${MQTT_ERR.BUSY}`);
      clients[i] = newClient(); // also clears CFG (§18.2.11 NOTE)
      r.ok();
    },
    '+CMQTTSSLCFG'(c, r) {
      if (c.form === 'read') return r.info(...sslcfg.map((x, i) => `+CMQTTSSLCFG: ${i},${x ?? ''}`)).ok();
      const i = idxOf(c.params[0]);
      const k = int(c.params[1]);
      if (c.params.length !== 2 || i === null || k === null || k < 0 || k > 9) return r.error();
      sslcfg[i] = k;
      r.ok();
    },
    '+CMQTTCFG'(c, r) {
      if (c.form === 'test') {
        return r.info('+CMQTTCFG: "checkUTF8",(0-1),(0-1)', '+CMQTTCFG: "optimeout",(0-1),(20-120)', '+CMQTTCFG: "version",(0-1),(3-4)').ok();
      }
      if (c.form === 'read') return r.info(...clients.map((x, i) => `+CMQTTCFG: ${i},${x.cfg.checkUTF8},${x.cfg.optimeout}`)).ok();
      const p = c.params;
      const name = String(str(p[0]) || '').toLowerCase();
      const i = idxOf(p[1]);
      const v = int(p[2]);
      if (p.length !== 3 || i === null || v === null) return r.error();
      const cl = clients[i];
      if (!cl.acquired || cl.conn !== 'idle') return r.error(); // "after ACCQ, before CONNECT"
      if (name === 'checkutf8' && (v === 0 || v === 1)) cl.cfg.checkUTF8 = v;
      else if (name === 'optimeout' && v >= 20 && v <= 120) cl.cfg.optimeout = v;
      else if (name === 'version' && (v === 3 || v === 4)) cl.cfg.version = v;
      else return r.error(); // includes "argtopic" (MQTT_EX mode: not simulated)
      r.ok();
    },
    '+CMQTTWILLTOPIC': (c, r) => input(c, r, '+CMQTTWILLTOPIC', 1024, (cl, d) => (cl.will.topic = d), { checkTopic: true }),
    '+CMQTTWILLMSG': (c, r) => input(c, r, '+CMQTTWILLMSG', 1024, (cl, d, q) => Object.assign(cl.will, { msg: d, qos: q }), { needQos: true }),
    '+CMQTTTOPIC': (c, r) => input(c, r, '+CMQTTTOPIC', 1024, (cl, d) => (cl.topic = d), { checkTopic: true }),
    '+CMQTTPAYLOAD': (c, r) => input(c, r, '+CMQTTPAYLOAD', 10240, (cl, d) => (cl.payload = d)),
    '+CMQTTSUBTOPIC': (c, r) => input(c, r, '+CMQTTSUBTOPIC', 1024, (cl, d, q) => cl.subs.push({ topic: d, qos: q }), { checkTopic: true, needQos: true }),
    '+CMQTTUNSUBTOPIC': (c, r) => input(c, r, '+CMQTTUNSUBTOPIC', 1024, (cl, d) => cl.unsubs.push(d), { checkTopic: true }),
    '+CMQTTCONNECT'(c, r) {
      if (c.form === 'read') {
        return r
          .info(
            ...clients.map((x, i) => {
              const p = x.params;
              if (x.conn !== 'connected' || !p) return `+CMQTTCONNECT: ${i}`;
              const extra = (p.user !== undefined ? `,"${p.user}"` : '') + (p.pass !== undefined ? `,"${p.pass}"` : '');
              return `+CMQTTCONNECT: ${i},"${p.url}",${p.keepalive},${p.clean}${extra}`;
            }),
          )
          .ok();
      }
      const p = c.params;
      const i = idxOf(p[0]);
      const url = str(p[1]);
      const keepalive = int(p[2]);
      const clean = int(p[3]);
      const user = p.length > 4 ? str(p[4]) : undefined;
      const pass = p.length > 5 ? str(p[5]) : undefined;
      const okLen = (s) => s === undefined || (s !== null && s.length >= 1 && s.length <= 256);
      if (p.length < 4 || p.length > 6 || i === null || url === null || url.length < 9 || url.length > 256) return r.error();
      if (keepalive === null || keepalive < 1 || keepalive > 64800 || (clean !== 0 && clean !== 1)) return r.error();
      if (!okLen(user) || !okLen(pass)) return r.error(); // field log b: "" password -> ERROR
      const cl = clients[i];
      if (!cl.acquired) return r.fail(`+CMQTTCONNECT: ${i},${MQTT_ERR.NOT_ACQUIRED}`);
      if (cl.conn !== 'idle') return r.fail(`+CMQTTCONNECT: ${i},${MQTT_ERR.CLIENT_USED}`);
      // "must begin with tcp://", default port 1883 (§18.2.2); ssl:// -> 12 [field log a]
      const u = /^tcp:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d{1,5}))?\/?$/.exec(url);
      if (!u || (u[2] && Number(u[2]) > 65535)) {
        sslcfg[i] = null;
        return r.fail(`+CMQTTCONNECT: ${i},${MQTT_ERR.INVALID_PARAM}`);
      }
      const host = u[1].replace(/^\[|\]$/g, '');
      const port = u[2] ? Number(u[2]) : 1883;
      cl.params = { url, keepalive, clean, user, pass };
      // "OK, then +CMQTTCONNECT: <client_index>,0" (§18.2.2 case 1): the connection starts once the
      // OK is out, however late the OK comes (the manual gives no Max Response Time; a test can
      // delay it with latencyMs['+CMQTTCONNECT'])
      r.ok().then(() => connect(i, host, port, r));
    },
    '+CMQTTDISC'(c, r) {
      if (c.form === 'read') return r.info(...clients.map((x, i) => `+CMQTTDISC: ${i},${x.conn === 'connected' ? 0 : 1}`)).ok(); // LG-AZ-LOG
      const p = c.params;
      const i = idxOf(p[0]);
      const to = int(p[1]);
      if (p.length !== 2 || i === null || to === null || to < 0 || to > 180) return r.error();
      const cl = clients[i];
      if (!cl.acquired) return r.fail(`+CMQTTDISC: ${i},${MQTT_ERR.NOT_ACQUIRED}`);
      if (cl.conn !== 'connected') return r.fail(`+CMQTTDISC: ${i},${MQTT_ERR.NO_CONNECTION}`);
      cl.conn = 'disconnecting';
      sslcfg[i] = null; // "cleared after ... AT+CMQTTDISC" (§18.2.5)
      const link = cl.link;
      const done = () => {
        cl.conn = 'idle';
        cl.link = null;
      };
      if (discOrder === 'urc-first') {
        // "+CMQTTDISC: <idx>,0" then OK (§18.2.3 case 1): the command completes after the broker
        return r.async((finish) =>
          link.disconnect(() =>
            m.after(tm.rttMs, () => {
              done();
              finish((r2) => r2.info(`+CMQTTDISC: ${i},0`).ok());
            }),
          ),
        );
      }
      r.ok();
      // the disconnect is complete when "+CMQTTDISC: <idx>,0" is written, not before (REL until
      // then: busy, see +CMQTTREL); a timeout ends it too [inferred]
      timedOp(i, '+CMQTTDISC', (to || 180) * 1000, (fin) => link.disconnect(() => fin(0, tm.rttMs)), done);
    },
    '+CMQTTPUB'(c, r) {
      const p = c.params;
      const i = idxOf(p[0]);
      const qos = int(p[1]);
      const to = int(p[2]);
      const retain = p.length > 3 ? int(p[3]) : 0;
      const dup = p.length > 4 ? int(p[4]) : 0;
      if (p.length < 3 || p.length > 5 || i === null || qos === null || qos < 0 || qos > 2 || to === null || to < 1 || to > 180) return r.error();
      if ((retain !== 0 && retain !== 1) || (dup !== 0 && dup !== 1)) return r.error();
      const cl = clients[i];
      if (!cl.acquired) return r.fail(`+CMQTTPUB: ${i},${MQTT_ERR.NOT_ACQUIRED}`);
      if (cl.conn !== 'connected') return r.fail(`+CMQTTPUB: ${i},${MQTT_ERR.NO_CONNECTION}`);
      if (cl.topic == null) return r.fail(`+CMQTTPUB: ${i},${MQTT_ERR.TOPIC_EMPTY}`);
      const topic = Buffer.from(cl.topic, 'latin1').toString('utf8');
      const payload = Buffer.from(cl.payload ?? '', 'latin1');
      cl.topic = null; // "The topic and payload will be clean after execute AT+CMQTTPUB" (§18.2.6)
      cl.payload = null;
      r.ok();
      m.stats.published++;
      const pt = faults.pubTimeout;
      if (pt && pt.count > 0 && qos > 0) {
        // fault: no PUBACK ever; timedOp's own timer reports 17 after pub_timeout
        if (--pt.count === 0) faults.pubTimeout = null;
        m.stats.pubTimeouts = (m.stats.pubTimeouts || 0) + 1;
        return timedOp(i, '+CMQTTPUB', to * 1000, () => {
          if (pt.delivered) cl.link.publish(topic, payload, { qos, retain, dup }, () => {});
        });
      }
      // +CMQTTPUB: <idx>,0 once QoS 0 is written / after PUBACK (1) / PUBCOMP (2); else 17
      timedOp(i, '+CMQTTPUB', to * 1000, (fin) =>
        cl.link.publish(topic, payload, { qos, retain, dup }, (err) => fin(err ? MQTT_ERR.SOCK_SEND : 0, qos === 0 ? 0 : tm.rttMs * qos)),
      );
    },
    '+CMQTTSUB'(c, r) {
      if (c.form === 'read') return r.ok();
      const p = c.params;
      const i = idxOf(p[0]);
      if (i === null) return r.error();
      const cl = clients[i];
      if (p.length <= 2) {
        // subscribe the topics queued by AT+CMQTTSUBTOPIC
        const dup = p.length > 1 ? int(p[1]) : 0;
        if (dup !== 0 && dup !== 1) return r.error();
        if (!cl.acquired) return r.fail(`+CMQTTSUB: ${i},${MQTT_ERR.NOT_ACQUIRED}`);
        if (cl.conn !== 'connected') return r.fail(`+CMQTTSUB: ${i},${MQTT_ERR.NO_CONNECTION}`);
        if (!cl.subs.length) return r.fail(`+CMQTTSUB: ${i},${MQTT_ERR.TOPIC_EMPTY}`);
        const list = cl.subs.splice(0);
        r.ok();
        return subscribe(i, list);
      }
      const len = int(p[1]);
      const qos = int(p[2]);
      const dup = p.length > 3 ? int(p[3]) : 0;
      if (p.length > 4 || len === null || len < 1 || len > 1024 || qos === null || qos < 0 || qos > 2 || (dup !== 0 && dup !== 1)) return r.error();
      if (!cl.acquired) return r.fail(`+CMQTTSUB: ${i},${MQTT_ERR.NOT_ACQUIRED}`);
      if (cl.conn !== 'connected') return r.fail(`+CMQTTSUB: ${i},${MQTT_ERR.NO_CONNECTION}`);
      r.prompt(len, (data, r2) => {
        if (cl.cfg.checkUTF8 && !utf8ok(data)) return r2.fail(`+CMQTTSUB: ${i},${MQTT_ERR.BAD_UTF8}`);
        if (cl.conn !== 'connected') return r2.fail(`+CMQTTSUB: ${i},${MQTT_ERR.NO_CONNECTION}`);
        r2.ok();
        subscribe(i, [{ topic: data, qos }]);
      });
    },
    '+CMQTTUNSUB'(c, r) {
      const p = c.params;
      const i = idxOf(p[0]);
      if (i === null) return r.error();
      const cl = clients[i];
      if (p.length === 2) {
        const dup = int(p[1]);
        if (dup !== 0 && dup !== 1) return r.error();
        if (!cl.acquired) return r.fail(`+CMQTTUNSUB: ${i},${MQTT_ERR.NOT_ACQUIRED}`);
        if (cl.conn !== 'connected') return r.fail(`+CMQTTUNSUB: ${i},${MQTT_ERR.NO_CONNECTION}`);
        if (!cl.unsubs.length) return r.fail(`+CMQTTUNSUB: ${i},${MQTT_ERR.TOPIC_EMPTY}`);
        const list = cl.unsubs.splice(0);
        r.ok();
        return unsubscribe(i, list);
      }
      const len = int(p[1]);
      const dup = int(p[2]);
      if (p.length !== 3 || len === null || len < 1 || len > 1024 || (dup !== 0 && dup !== 1)) return r.error();
      if (!cl.acquired) return r.fail(`+CMQTTUNSUB: ${i},${MQTT_ERR.NOT_ACQUIRED}`);
      if (cl.conn !== 'connected') return r.fail(`+CMQTTUNSUB: ${i},${MQTT_ERR.NO_CONNECTION}`);
      r.prompt(len, (data, r2) => {
        if (cl.cfg.checkUTF8 && !utf8ok(data)) return r2.fail(`+CMQTTUNSUB: ${i},${MQTT_ERR.BAD_UTF8}`);
        r2.ok();
        unsubscribe(i, [data]);
      });
    },
  };

  // Gate: test forms always answer; anything else before START is a bare ERROR (§18.2.1 NOTE).
  const handlers = {};
  for (const [name, fn] of Object.entries(h)) {
    handlers[name] = (c, r) => {
      if (c.form === 'test') return TEST[name] ? r.info(TEST[name]).ok() : fn(c, r);
      if (name !== '+CMQTTSTART' && !started) return r.error();
      if (c.form === 'exec' && name !== '+CMQTTSTART' && name !== '+CMQTTSTOP') return r.error();
      return fn(c, r);
    };
  }

  return {
    handlers,
    reset,
    faults,
    /** network gone (loseNetwork / CFUN): CONNLOST cause 3 for live clients, then +CMQTTNONET */
    networkLost() {
      for (const [i, cl] of clients.entries()) {
        if (cl.conn === 'connected') {
          cl.link.destroy();
          lost(i, CONNLOST.NETWORK_CLOSED);
        }
      }
      if (started) {
        m.urc('+CMQTTNONET');
        // "you should restart the MQTT service by AT+CMQTTSTART" (§18.4) [inferred: stopped]
        started = false;
        clients = [newClient(), newClient()];
        sslcfg = [null, null];
      }
    },
    drop(i, cause) {
      const cl = clients[i];
      return !!(cl && cl.conn === 'connected' && cl.link.drop(cause));
    },
    state: () => ({
      started,
      clients: clients.map((x) => ({
        acquired: x.acquired,
        id: x.id,
        serverType: x.type,
        conn: x.conn,
        version: x.cfg.version,
        checkUTF8: x.cfg.checkUTF8,
        optimeout: x.cfg.optimeout,
      })),
      sslcfg: [...sslcfg],
    }),
  };
}
