// The SIM800 CIP (TCP/IP) stack, multi-connection mode (AT+CIPMUX=1) with real sockets.
// modem-facts.md §B.2 (SIM800-ATM ch. 8, real logs) unless marked:
//   states IP INITIAL -CSTT-> IP START -CIICR-> IP CONFIG -> IP GPRSACT -CIFSR-> IP STATUS,
//   IP PROCESSING while a link is open (multi), PDP DEACT when the context drops (CIPSHUT only).
//   CIPMUX / CSTT only in IP INITIAL, CIPSTART needs IP STATUS/PROCESSING, CIPSEND a connected
//   link; otherwise plain ERROR (or +CME ERROR: 3 with opts.stateErrors = 'cme': "a simulator
//   should make both outcomes configurable").
//   "<n>, CONNECT OK" etc. have a space after the comma (log hex); "<n>, CLOSED" can be spelt
//   "<n>,CLOSED" (opts.closedSpace = false; a SIM7000 log shows it).
//   CIPCLOSE on a link that is not open: +CME ERROR: operation not allowed (CME 3, per CMEE) by
//   default, plain ERROR with opts.closeClosed = 'error'.
//   TLS failure (CIPSSL=1): "<n>, CONNECT FAIL" by default, "<n>, CLOSE OK" as TinyGSM saw with
//   opts.sslFailUrc = 'CLOSE OK'.
//   CIPSEND: DATA ACCEPT at once with CIPQSEND=1, "<n>, SEND OK" only after the server's TCP ACK
//   with CIPQSEND=0 (opts.ackDelayMs, the network round trip; default 0).
// Not simulated: single-connection mode (CIPMUX=0 CIPSTART answers ERROR), UDP, CIPSERVER.

import net from 'node:net';
import { int, str } from '../common/at-parse.mjs';
import { openSocket } from './link.mjs';

export const MAX_LINKS = 6; // n = 0..5
export const MAX_SEND = 1460; // +CIPSEND: 0,1460 on a connected link

export function createCip(m, network) {
  const o = m.opts;
  const dns = o.dns || {};
  const timing = { pdpMs: 1000, connectMs: 200, dnsFailMs: 1000, ...(o.cipTiming || {}) };
  const closedSpace = o.closedSpace !== false;
  const ackDelayMs = o.ackDelayMs ?? 0; // CIPQSEND=0: data out → the server's TCP ACK (SEND OK)
  let s;
  function reset() {
    if (s) for (const l of s.links) if (l.sock) l.sock.destroy();
    s = {
      state: 'IP INITIAL',
      mux: 0,
      qsend: 0,
      rxget: 0,
      ssl: 0,
      apn: { apn: 'CMNET', user: '', pwd: '' },
      links: Array.from({ length: MAX_LINKS }, (_, n) => newLink(n)),
    };
  }
  function newLink(n) {
    return { n, state: 'INITIAL', host: '', port: '', sock: null, rx: '', notified: false, ssl: false, gen: 0, tls: null };
  }
  reset();

  const stateError = (b) => (o.stateErrors === 'cme' ? b.cme(3) : b.error());
  const active = (l) => l.state === 'CONNECTING' || l.state === 'CONNECTED';
  function settleState() {
    if (s.state === 'IP PROCESSING' && !s.links.some(active)) s.state = 'IP STATUS';
    m.stateChanged();
  }

  function remoteClosed(l) {
    l.state = 'CLOSED';
    l.sock = null;
    m.urc(closedSpace ? `${l.n}, CLOSED` : `${l.n},CLOSED`);
    settleState();
  }

  function onData(l, data) {
    m.stats.rxBytes += data.length;
    if (s.rxget === 1) {
      l.rx += data;
      if (!l.notified) {
        l.notified = true;
        m.urc(`+CIPRXGET: 1,${l.n}`);
      }
    } else {
      m.urcRaw(`\r\n+RECEIVE,${l.n},${data.length}:\r\n${data}`);
    }
  }

  function resolve(host, port) {
    if (Object.prototype.hasOwnProperty.call(dns, host)) return dns[host];
    if (net.isIP(host)) return { host, port };
    return null;
  }

  function start(l, host, port) {
    l.gen++;
    const g = l.gen;
    Object.assign(l, { state: 'CONNECTING', host, port: String(port), rx: '', notified: false, ssl: !!s.ssl, tls: null });
    s.state = 'IP PROCESSING';
    const done = m.beginOp();
    const fail = (why) => {
      if (l.gen !== g) return done();
      l.state = 'CLOSED';
      l.sock = null;
      done();
      const sslFail = l.ssl && why !== 'ECONNREFUSED' && why !== 'dns';
      m.urc(sslFail && o.sslFailUrc === 'CLOSE OK' ? `${l.n}, CLOSE OK` : `${l.n}, CONNECT FAIL`);
      settleState();
    };
    const addr = resolve(host, port);
    if (!addr) return m.after(timing.dnsFailMs, () => fail('dns'));
    m.stats.connects.push({ host, port: Number(port), address: addr, ssl: l.ssl });
    l.sock = openSocket({
      clock: m.clock,
      address: addr,
      ssl: l.ssl,
      realWaitMs: o.realWaitMs,
      replyWaitMs: o.replyWaitMs,
      onOpen(ok, why) {
        // connection time in virtual time (the real I/O itself ran under a clock hold)
        m.after(timing.connectMs, () => {
          if (l.gen !== g) return done();
          if (!ok) return fail(why);
          if (l.state !== 'CONNECTING') return done();
          l.state = 'CONNECTED';
          l.tls = l.sock.info.tls;
          done();
          m.urc(`${l.n}, CONNECT OK`);
          m.stateChanged();
        });
      },
      onData: (d) => l.gen === g && onData(l, d),
      onClose: () => l.gen === g && l.state === 'CONNECTED' && remoteClosed(l),
    });
  }

  function cline(l) {
    if (l.state === 'INITIAL') return `C: ${l.n},,"","","","INITIAL"`;
    return `C: ${l.n},0,"TCP","${l.host}","${l.port}","${l.state}"`;
  }

  function linkArg(p) {
    const n = int(p);
    return n != null && n >= 0 && n < MAX_LINKS ? s.links[n] : null;
  }

  /** the context drops (fault / network loss): open links close, +PDP: DEACT, state PDP DEACT */
  function pdpDeact() {
    if (!['IP CONFIG', 'IP GPRSACT', 'IP STATUS', 'IP PROCESSING'].includes(s.state)) return false;
    for (const l of s.links) {
      if (!active(l)) continue;
      l.gen++;
      if (l.sock) l.sock.destroy();
      l.sock = null;
      l.state = 'CLOSED';
      m.urc(closedSpace ? `${l.n}, CLOSED` : `${l.n},CLOSED`);
    }
    s.state = 'PDP DEACT';
    m.urc('+PDP: DEACT');
    m.stateChanged();
    return true;
  }

  const handlers = {
    '+CIPSHUT'(c, b) {
      if (c.form !== 'exec') return b.error();
      for (const l of s.links) {
        l.gen++;
        if (l.sock) l.sock.destroy();
      }
      s.links = s.links.map((l) => newLink(l.n));
      s.state = 'IP INITIAL';
      m.stateChanged();
      b.info('SHUT OK');
    },
    '+CIPMUX'(c, b) {
      if (c.form === 'read') return b.info(`+CIPMUX: ${s.mux}`).ok();
      if (c.form === 'test') return b.info('+CIPMUX: (0,1)').ok();
      const n = int(c.params[0]);
      if (c.form !== 'write' || (n !== 0 && n !== 1)) return b.error();
      if (s.state !== 'IP INITIAL') return stateError(b);
      s.mux = n;
      b.ok();
    },
    '+CIPQSEND'(c, b) {
      if (c.form === 'read') return b.info(`+CIPQSEND: ${s.qsend}`).ok();
      if (c.form === 'test') return b.info('+CIPQSEND: (0,1)').ok();
      const n = int(c.params[0]);
      if (c.form !== 'write' || (n !== 0 && n !== 1)) return b.error();
      s.qsend = n;
      b.ok();
    },
    '+CIPSSL'(c, b) {
      if (c.form === 'read') return b.info(`+CIPSSL: ${s.ssl}`).ok();
      if (c.form === 'test') return b.info('+CIPSSL: (0,1)').ok();
      const n = int(c.params[0]);
      if (c.form !== 'write' || (n !== 0 && n !== 1)) return b.error();
      s.ssl = n; // applies to connections opened afterwards (§B.3)
      b.ok();
    },
    '+SSLOPT'(c, b) {
      const [a, e] = [int(c.params[0]), int(c.params[1])];
      if (c.form !== 'write' || (a !== 0 && a !== 1) || (e !== 0 && e !== 1)) return b.error();
      b.ok(); // accepted, not simulated (certificates are not checked)
    },
    '+CIPHEAD': (c, b) => b.ok(),
    '+CIPSRIP': (c, b) => b.ok(),
    '+CDNSCFG': (c, b) => b.ok(),
    '+CIPRXGET'(c, b) {
      if (c.form === 'read') return b.info(`+CIPRXGET: ${s.rxget}`).ok();
      if (c.form === 'test') return b.info('+CIPRXGET: (0-4),(0-5),(1-1460)').ok();
      if (c.form !== 'write') return b.error();
      const mode = int(c.params[0]);
      if ((mode === 0 || mode === 1) && c.params.length === 1) {
        s.rxget = mode;
        return b.ok();
      }
      if (s.rxget !== 1 || ![2, 3, 4].includes(mode) || !s.mux) return b.error();
      const l = linkArg(c.params[1]);
      if (!l) return b.error();
      if (l.state === 'INITIAL' && !l.rx) return stateError(b);
      if (mode === 4) {
        if (c.params.length !== 2) return b.error();
        return b.info(`+CIPRXGET: 4,${l.n},${l.rx.length}`).ok();
      }
      const len = int(c.params[2]);
      const max = mode === 2 ? MAX_SEND : MAX_SEND / 2;
      if (len == null || len < 1 || len > max) return b.error();
      const part = l.rx.slice(0, len);
      l.rx = l.rx.slice(part.length);
      if (!l.rx) l.notified = false; // the next arrival is announced again
      const body = mode === 2 ? part : Buffer.from(part, 'latin1').toString('hex').toUpperCase();
      b.info(`+CIPRXGET: ${mode},${l.n},${part.length},${l.rx.length}`, body).ok();
    },
    '+CSTT'(c, b) {
      if (c.form === 'read') return b.info(`+CSTT: "${s.apn.apn}","${s.apn.user}","${s.apn.pwd}"`).ok();
      if (c.form === 'test') return b.info('+CSTT: "APN","USER","PWD"').ok();
      if (s.state !== 'IP INITIAL') return stateError(b);
      if (c.form === 'write') {
        const [apn, user = '', pwd = ''] = c.params.map(str);
        if (apn == null || user == null || pwd == null) return b.error();
        s.apn = { apn, user, pwd };
      }
      s.state = 'IP START';
      m.stateChanged();
      b.ok();
    },
    '+CIICR'(c, b) {
      if (c.form !== 'exec') return b.error();
      if (s.state !== 'IP START') return stateError(b);
      s.state = 'IP CONFIG';
      const done = m.beginOp();
      b.async((reply) =>
        m.after(timing.pdpMs, () => {
          done();
          const fault = m.faults.pdpFail;
          if (s.state !== 'IP CONFIG') return reply((bb) => bb.error());
          if (!network.registered() || network.state().cgatt !== 1 || fault) {
            if (fault && fault !== 'always') m.faults.pdpFail = false;
            s.state = 'PDP DEACT';
            m.stateChanged();
            return reply((bb) => bb.info('+PDP: DEACT').error());
          }
          s.state = 'IP GPRSACT';
          m.stateChanged();
          reply((bb) => bb.ok());
        }),
      );
    },
    '+CIFSR'(c, b) {
      if (c.form !== 'exec') return b.error();
      if (!['IP GPRSACT', 'IP STATUS', 'IP PROCESSING'].includes(s.state)) return b.error();
      if (s.state === 'IP GPRSACT') s.state = 'IP STATUS';
      m.stateChanged();
      b.info(network.ip()); // IP only, no OK (§B.2)
    },
    '+CIPSTATUS'(c, b) {
      if (c.form === 'exec') {
        b.ok().info(`STATE: ${s.state}`);
        if (s.mux) b.info(...s.links.map(cline));
        return;
      }
      if (c.form === 'write') {
        const l = linkArg(c.params[0]);
        if (!s.mux || !l) return b.error();
        return b.info(`+CIPSTATUS: ${cline(l).slice(3)}`).ok();
      }
      b.ok();
    },
    '+CIPSTART'(c, b) {
      if (c.form !== 'write') return b.error();
      if (!s.mux) return b.error(); // single-connection mode not simulated
      if (c.params.length !== 4) return b.error();
      const l = linkArg(c.params[0]);
      const mode = str(c.params[1]);
      const host = str(c.params[2]);
      const port = int(c.params[3]) ?? Number(str(c.params[3]));
      if (!l || !host || !(port > 0 && port < 65536)) return b.error();
      if (String(mode).toUpperCase() !== 'TCP') return b.error(); // UDP not simulated
      if (!['IP STATUS', 'IP PROCESSING'].includes(s.state)) return stateError(b);
      if (active(l)) return b.ok().then(() => m.urc(`${l.n}, ALREADY CONNECT`));
      b.ok().then(() => start(l, host, port));
    },
    '+CIPSEND'(c, b) {
      if (c.form === 'read') {
        if (!s.mux) return b.info(`+CIPSEND: ${active(s.links[0]) ? MAX_SEND : 0}`).ok();
        return b.info(...s.links.map((l) => `+CIPSEND: ${l.n},${l.state === 'CONNECTED' ? MAX_SEND : 0}`)).ok();
      }
      if (c.form === 'test') return b.info('+CIPSEND: (0-5),(1-1460)').ok();
      if (c.form !== 'write' || !s.mux) return b.error();
      const l = linkArg(c.params[0]);
      if (!l || c.params.length > 2) return b.error();
      const len = c.params.length === 2 ? int(c.params[1]) : null;
      if (c.params.length === 2 && (len == null || len < 1 || len > MAX_SEND)) return b.error();
      if (l.state !== 'CONNECTED') return stateError(b);
      const g = l.gen;
      b.prompt(len, (data, bb, cancelled) => {
        if (cancelled) return bb.ok(); // ESC [inferred]
        if (data.length > MAX_SEND || l.gen !== g || l.state !== 'CONNECTED') return bb.info(`${l.n}, SEND FAIL`);
        m.stats.txBytes += data.length;
        // SIM800 AT manual V1.09 §8.2.4 AT+CIPQSEND: "1 Quick send mode – when the data is sent
        // to module, it will response DATA ACCEPT:<n>,<length>, while not response SEND OK"
        if (s.qsend) {
          l.sock.write(data, () => {});
          return bb.info(`DATA ACCEPT:${l.n},${data.length}`);
        }
        // "0 Normal mode – when the server receives TCP data, it will response SEND OK" (§8.2.4);
        // the server's TCP ACK comes back one network round trip later: opts.ackDelayMs (GPRS
        // round trips run to seconds; the manual's §8.2.3 Max Response Time: "When +CIPQSEND=0
        // and the remote server no response, after 645 seconds, CLOSE will be reported"). The
        // bytes themselves leave at once [simplification: the server sees them without delay].
        // A link lost before the ACK: SEND FAIL [inferred].
        bb.async((reply) =>
          l.sock.write(data, (err) =>
            m.after(err ? 0 : ackDelayMs, () => {
              const ok = !err && l.gen === g && l.state === 'CONNECTED';
              reply((b3) => b3.info(ok ? `${l.n}, SEND OK` : `${l.n}, SEND FAIL`));
            }),
          ),
        );
      });
    },
    '+CIPCLOSE'(c, b) {
      if (c.form !== 'write' || !s.mux) return b.error();
      const l = linkArg(c.params[0]);
      if (!l) return b.error();
      if (!active(l)) return o.closeClosed === 'error' ? b.error() : b.cme(3);
      l.gen++;
      l.state = 'CLOSING';
      const sock = l.sock;
      b.async((reply) =>
        sock.close(() => {
          l.state = 'CLOSED';
          l.sock = null;
          settleState();
          reply((bb) => bb.info(`${l.n}, CLOSE OK`));
        }),
      );
    },
  };

  return {
    handlers,
    reset,
    pdpDeact,
    networkLost: () => pdpDeact(),
    /** the server side of link n goes away */
    drop(n) {
      const l = s.links[n];
      if (!l || l.state !== 'CONNECTED') return false;
      l.gen++;
      l.sock.destroy();
      remoteClosed(l);
      return true;
    },
    state: () => ({
      state: s.state,
      mux: s.mux,
      qsend: s.qsend,
      rxget: s.rxget,
      ssl: s.ssl,
      apn: { ...s.apn },
      links: s.links.map((l) => ({ n: l.n, state: l.state, host: l.host, port: l.port, ssl: l.ssl, tls: l.tls, buffered: l.rx.length })),
    }),
  };
}
