// SSL contexts and certificate files: AT+CSSLCFG, AT+CCERTDOWN, AT+CCERTLIST, AT+CCERTDELE
// (A76-ATM §19.2.1-19.2.4; modem-facts.md §A.7). Contexts are not saved ("Parameter Saving Mode
// -"), so they return to the defaults at each boot; files live in the modem's flash and survive
// reboots (modem-facts §A.7, inferred from T-SIM7600X #49).

import { int, str } from '../common/at-parse.mjs';

const NAME_OK = (n) => typeof n === 'string' && n.length >= 5 && n.length <= 108 && /\.(pem|der)$/i.test(n);

export function defaultSslContext() {
  // defaults: §19.2.1 "Defined Values" and the AT+CSSLCFG? example
  return { sslversion: 4, authmode: 0, ignorelocaltime: 1, negotiatetime: 300, cacert: '', clientcert: '', clientkey: '', password: '', enableSNI: 0 };
}

// "<len> The length of the file data to send. The range is from 1 to 10240 bytes. User should
// note than every packet data should be no larger than 3072 bytes." (A76-ATM §19.2.2). A packet
// is taken to be one burst on the UART: bytes back to back at the line rate, ended by an idle gap
// (there is no flow control on these boards, modem-facts §A.0). What the modem answers to a
// bigger one is not documented: ERROR, the file not stored [inferred].
export const CCERTDOWN_PACKET_MAX = 3072;
const PACKET_GAP_MS = 20; // an idle line this long ends a packet [inferred]

/** Sizes of the bursts in the host's bytes after virtual time t0 (transcript entries, at baud). */
export function burstsSince(transcript, t0, baud = 115200) {
  const byteMs = 10000 / baud;
  const out = [];
  let end = -Infinity;
  for (const e of transcript.entries) {
    if (e.dir !== 'in' || e.t <= t0) continue;
    if (e.t >= end + PACKET_GAP_MS || !out.length) {
      out.push(0);
      end = e.t;
    }
    out[out.length - 1] += e.data.length;
    end = Math.max(end, e.t) + e.data.length * byteMs;
  }
  return out;
}

const samePem = (a, b) => String(a).replace(/\r/g, '').trim() === String(b).replace(/\r/g, '').trim();

export function createSsl(m, transcript) {
  let ctx = [];
  // caStandIn { replaces: PEM, trust: PEM } (a rig option, host/testing/rig.mjs userConfig): a
  // TEST STAND-IN, not modem behaviour. When the CA file a context names holds exactly `replaces`
  // (the CA the user's config names, e.g. ISRG Root X1), the server is verified against `trust`
  // (the rig's test CA) instead, so a local broker can stand in for the user's cloud. Noted once
  // in the transcript.
  const caStandIn = m.opts.caStandIn || null;
  let standInNoted = false;
  const files = m.flash.files; // Map name -> binary string

  function reset() {
    ctx = Array.from({ length: 10 }, defaultSslContext);
  }
  reset();

  const line = (i) => {
    const c = ctx[i];
    return `+CSSLCFG: ${i},${c.sslversion},${c.authmode},${c.ignorelocaltime},${c.negotiatetime},"${c.cacert}","${c.clientcert}","${c.clientkey}","${c.password}",${c.enableSNI}`;
  };

  const NUM = {
    sslversion: [0, 4],
    authmode: [0, 3],
    ignorelocaltime: [0, 1],
    negotiatetime: [10, 300],
    enableSNI: [0, 1],
  };
  const FILE = ['cacert', 'clientcert', 'clientkey', 'password'];

  const handlers = {
    '+CSSLCFG'(c, r) {
      if (c.form === 'test') {
        return r
          .info(
            '+CSSLCFG: "sslversion",(0-9),(0-4)',
            '+CSSLCFG: "authmode",(0-9),(0-3)',
            '+CSSLCFG: "ignorelocaltime",(0-9),(0,1)',
            '+CSSLCFG: "negotiatetime",(0-9),(10-300)',
            '+CSSLCFG: "cacert",(0-9),(5-108)',
            '+CSSLCFG: "clientcert",(0-9),(5-108)',
            '+CSSLCFG: "clientkey",(0-9),(5-108)',
            '+CSSLCFG: "password",(0-9),(5-108)',
            '+CSSLCFG: "enableSNI",(0-9),(0,1)',
          )
          .ok();
      }
      if (c.form === 'read') return r.info(...ctx.map((_, i) => line(i))).ok();
      if (c.form !== 'write') return r.error();
      const p = c.params;
      if (p.length === 1) {
        const i = int(p[0]);
        if (i === null || i < 0 || i > 9) return r.error();
        return r.info(line(i)).ok();
      }
      if (p.length !== 3) return r.error();
      // the option name is matched case-insensitively [inferred]; the manual spells "enableSNI"
      const opt = Object.keys(defaultSslContext()).find((k) => k.toLowerCase() === String(str(p[0])).toLowerCase());
      const i = int(p[1]);
      if (!opt || i === null || i < 0 || i > 9) return r.error();
      if (NUM[opt]) {
        const v = int(p[2]);
        if (v === null || v < NUM[opt][0] || v > NUM[opt][1]) return r.error();
        ctx[i][opt] = v;
        return r.ok();
      }
      if (FILE.includes(opt)) {
        const n = str(p[2]);
        if (!NAME_OK(n)) return r.error();
        ctx[i][opt] = n; // the manual does not say the file must exist yet; it is checked at CONNECT
        return r.ok();
      }
      return r.error();
    },
    '+CCERTDOWN'(c, r) {
      if (c.form === 'test') return r.info('+CCERTDOWN: (5-108),(1-10240)').ok();
      if (c.form !== 'write' || c.params.length !== 2) return r.error();
      const name = str(c.params[0]);
      const len = int(c.params[1]);
      if (!NAME_OK(name) || len === null || len < 1 || len > 10240) return r.error();
      // "> then exactly <len> bytes, then OK" (§19.2.2)
      const t0 = m.clock.now();
      r.prompt(len, (data, r2) => {
        if (transcript && burstsSince(transcript, t0).some((n) => n > CCERTDOWN_PACKET_MAX)) return r2.error();
        files.set(name, data);
        m.stateChanged();
        r2.ok();
      });
    },
    '+CCERTLIST'(c, r) {
      if (c.form === 'test') return r.ok();
      if (c.form !== 'exec') return r.error();
      const names = [...files.keys()];
      if (names.length) r.info(...names.map((n) => `+CCERTLIST: "${n}"`));
      r.ok();
    },
    '+CCERTDELE'(c, r) {
      if (c.form === 'test') return r.ok();
      if (c.form !== 'write' || c.params.length !== 1) return r.error();
      const name = str(c.params[0]);
      if (!files.has(name)) return r.error();
      files.delete(name);
      r.ok();
    },
  };

  const toPem = (data, name) => {
    if (/\.der$/i.test(name)) {
      const b64 = Buffer.from(data, 'latin1')
        .toString('base64')
        .replace(/.{1,64}/g, '$&\n');
      return `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`;
    }
    return Buffer.from(data, 'latin1');
  };

  /**
   * TLS settings for a connection through context i to urlHost. Returns { tls } or { err } (an
   * A76xx MQTT <err>: 33 "not set certificate" when a needed file is not configured or missing
   * [inferred from the code's name], 32 for SSL 3.0, which Node cannot speak).
   * authmode (§19.2.1): 0 none, 1 server (CA), 2 server + client (CA, cert, key), 3 client only.
   * Decisions: SNI is sent only when enableSNI=1 (§19.2.1, "default 0"). With server
   * verification the chain must lead to the uploaded CA; the host name is checked against the
   * name in the CMQTTCONNECT URL only when SNI is on, like mbedTLS, where one call
   * (mbedtls_ssl_set_hostname) sets both the SNI and the name to verify [inferred].
   * ignorelocaltime=1 (default) accepts expired / not-yet-valid certificates; with 0 the dates are
   * checked against the host's clock, not the modem's CCLK [approximation].
   */
  function tlsFor(i, urlHost) {
    const c = ctx[i];
    const out = { servername: c.enableSNI ? urlHost : undefined };
    const verMap = { 1: ['TLSv1', 'TLSv1'], 2: ['TLSv1.1', 'TLSv1.1'], 3: ['TLSv1.2', 'TLSv1.2'], 4: ['TLSv1', 'TLSv1.2'] };
    if (c.sslversion === 0) return { err: 32 };
    [out.minVersion, out.maxVersion] = verMap[c.sslversion];
    if (c.sslversion !== 3) out.ciphers = 'DEFAULT:@SECLEVEL=0'; // let OpenSSL offer TLS 1.0/1.1
    const need = (n) => (n && files.has(n) ? files.get(n) : null);
    if (c.authmode === 1 || c.authmode === 2) {
      const ca = need(c.cacert);
      if (ca === null) return { err: 33 };
      out.ca = [toPem(ca, c.cacert)];
      if (caStandIn && samePem(out.ca[0], caStandIn.replaces)) {
        out.ca = [caStandIn.trust];
        if (!standInNoted && transcript)
          transcript.note(`stand-in: ${c.cacert} (the config's CA) is verified against the rig's test CA; a real modem would use the file itself`);
        standInNoted = true;
      }
      out.verifyServer = true;
      out.ignoreTime = c.ignorelocaltime === 1;
      out.checkHostname = c.enableSNI ? urlHost : null;
    }
    if (c.authmode === 2 || c.authmode === 3) {
      const cert = need(c.clientcert);
      const key = need(c.clientkey);
      if (cert === null || key === null) return { err: 33 };
      out.cert = toPem(cert, c.clientcert);
      out.key = Buffer.from(key, 'latin1');
      if (c.password && files.has(c.password)) out.passphrase = files.get(c.password).trim();
    }
    out.negotiateMs = c.negotiatetime * 1000;
    return { tls: out };
  }

  return { handlers, reset, tlsFor, contexts: () => ctx };
}
