// TLS servers for the tests of the firmware's own TLS 1.2 client (issue 12): a HiveMQ-Cloud-like
// broker that takes only TLS 1.2 with ECDHE and requires SNI, and bad servers that a correct
// client must refuse. Every server is the real test broker (host/broker/index.mjs: Aedes behind
// the SNI front) with its TLS set up wrongly in one way, behind a recording TCP proxy:
//   - should a client wrongly accept a bad server, the broker still takes its MQTT session and its
//     readings, so a test sees it (broker.received, broker.events);
//   - the proxy keeps every byte the client sent, so a test can show that no reading crossed the
//     wire in plaintext (sawPlaintext);
//   - the proxy can tamper with the server's flight (one byte of the ServerKeyExchange signature).
// Each factory resolves to { kind, host, port, broker, proxy, pki, expect, close() }: port is the
// proxy's (what the modem's DNS should give for the broker's name); expect.node is the error code
// Node's own TLS client (restricted like the firmware's: cellpubClientOptions) gets.
//
// Expected codes were checked with Node 20 / OpenSSL 3.0 (test/tls-servers.test.mjs proves each).

import net from 'node:net';
import { makeChainPki, startBroker } from '../broker/index.mjs';

/** The host name the virtual installation uses (host/testing/rig.mjs CLUSTER_HOST). */
export const TLS_CLUSTER_HOST = 'c0ffee42.s1.eu.hivemq.cloud';
export const TLS_TEST_USER = { name: 'station', password: 'test-only-password' };

/** What the firmware offers (issue 12): TLS 1.2 only, ECDHE-RSA with AES-128-GCM, X25519, and
 *  RSASSA-PKCS1-v1_5 signatures (rsa_pkcs1_sha256/384/512; no PSS). */
export const CELLPUB_TLS = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.2',
  ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
  ecdhCurve: 'X25519',
  sigalgs: 'RSA+SHA256:RSA+SHA384:RSA+SHA512',
};

/** A HiveMQ-Cloud-like listener: TLS 1.2 only, ECDHE-RSA suites only (RSA certificate). */
export const HIVEMQ_LIKE_TLS = {
  tlsMinVersion: 'TLSv1.2',
  tlsMaxVersion: 'TLSv1.2',
  tlsCiphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305',
};

let defaultPki = null;
/** The chain the servers use unless told otherwise (cached on disk by makeChainPki). */
export function tlsTestPki(opts) {
  if (opts) return makeChainPki(opts);
  defaultPki ??= makeChainPki();
  return defaultPki;
}

/** tls.connect / mqtt options for Node's client restricted like cellpub's (trusting the root only). */
export function cellpubClientOptions(server, extra = {}) {
  return {
    host: server.host,
    port: server.port,
    servername: TLS_CLUSTER_HOST,
    ca: server.pki.rootPem,
    rejectUnauthorized: true,
    ...CELLPUB_TLS,
    ...extra,
  };
}

// ---- the recording (and tampering) proxy --------------------------------------------------

/**
 * Walks the server→client byte stream of a TLS 1.2 handshake and finds the ServerKeyExchange
 * (handshake type 12) of an ECDHE suite (RFC 8422 §5.4):
 *   ServerECDHParams { curve_type(1) = named_curve(3), NamedCurve(2), opaque point<1..2^8-1> }
 *   digitally-signed { SignatureAndHashAlgorithm(2), opaque signature<0..2^16-1> }
 * Handshake messages may span records and records may hold several messages.
 * → { state: 'more' } (need more bytes), { state: 'none', why } (no SKE in this flight:
 *   resumption, TLS 1.3, an alert, not TLS), or { state: 'found', ske: { curve, sigAlg, pointLen,
 *   sigLen, sigAt / pointAt (offsets in buf of the first byte), sigMid / pointMid (of the middle
 *   byte) } }.
 */
export function findServerKeyExchange(buf) {
  const hs = []; // handshake bytes gathered: [{ hsOff, bufOff, len }]
  let hsLen = 0;
  let off = 0;
  const chunks = [];
  const at = (hsOff) => {
    for (const c of hs) if (hsOff >= c.hsOff && hsOff < c.hsOff + c.len) return c.bufOff + (hsOff - c.hsOff);
    return -1;
  };
  for (;;) {
    // parse whatever messages are complete so far
    const all = chunks.length ? Buffer.concat(chunks) : Buffer.alloc(0);
    let p = 0;
    while (p + 4 <= all.length) {
      const type = all[p];
      const len = all.readUIntBE(p + 1, 3);
      if (p + 4 + len > all.length) break;
      if (type === 12) {
        const body = all.subarray(p + 4, p + 4 + len);
        if (body[0] !== 3) return { state: 'none', why: `ServerKeyExchange curve_type ${body[0]} (not named_curve)` };
        const curve = body.readUInt16BE(1);
        const pointLen = body[3];
        const s = 4 + pointLen;
        const sigAlg = body.readUInt16BE(s);
        const sigLen = body.readUInt16BE(s + 2);
        return {
          state: 'found',
          ske: {
            curve,
            sigAlg,
            pointLen,
            sigLen,
            pointAt: at(p + 4 + 4),
            sigAt: at(p + 4 + s + 4),
            // offsets in buf of the middle byte of each (a record header may lie in between)
            pointMid: at(p + 4 + 4 + (pointLen >> 1)),
            sigMid: at(p + 4 + s + 4 + (sigLen >> 1)),
          },
        };
      }
      if (type === 14) return { state: 'none', why: 'ServerHelloDone before any ServerKeyExchange' };
      p += 4 + len;
    }
    if (off + 5 > buf.length) return { state: 'more' };
    const type = buf[off];
    if (type !== 22) return { state: 'none', why: `record type ${type} before any ServerKeyExchange` };
    const len = buf.readUInt16BE(off + 3);
    if (off + 5 + len > buf.length) return { state: 'more' };
    hs.push({ hsOff: hsLen, bufOff: off + 5, len });
    chunks.push(buf.subarray(off + 5, off + 5 + len));
    hsLen += len;
    off += 5 + len;
  }
}

/**
 * createTlsProxy({ target: { host, port }, tamper }) → Promise<proxy>
 *   tamper: null (record only), 'ske-signature' (flip one bit in the middle of the
 *   ServerKeyExchange signature) or 'ske-point' (flip one bit of the server's ECDH public value,
 *   which the signature covers). Only the first server flight of each connection is looked at;
 *   everything else passes untouched.
 * proxy: { host, port, connections: [{ clientBytes: Buffer[], serverBytes: Buffer[], ske, tampered }],
 *   clientStream(): Buffer (all bytes clients sent), sawPlaintext(text): boolean, close() }
 */
export async function createTlsProxy({ target, tamper = null, host = '127.0.0.1' } = {}) {
  const connections = [];
  const sockets = new Set();
  const server = net.createServer((client) => {
    const rec = { clientBytes: [], serverBytes: [], ske: null, tampered: false, note: null };
    connections.push(rec);
    const upstream = net.connect(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (d) => {
      rec.clientBytes.push(Buffer.from(d));
      upstream.write(d);
    });
    let pending = tamper ? Buffer.alloc(0) : null; // server bytes held back until the SKE is found
    upstream.on('data', (d) => {
      rec.serverBytes.push(Buffer.from(d));
      if (!pending) return client.write(d);
      pending = Buffer.concat([pending, d]);
      const r = findServerKeyExchange(pending);
      if (r.state === 'more') return;
      if (r.state === 'found') {
        rec.ske = r.ske;
        const i = tamper === 'ske-point' ? r.ske.pointMid : r.ske.sigMid;
        pending[i] ^= 0x01;
        rec.tampered = true;
      } else rec.note = r.why;
      client.write(pending);
      pending = null;
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => {
      if (pending && pending.length) client.write(pending);
      pending = null;
      client.end();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const clientStream = () => Buffer.concat(connections.flatMap((c) => c.clientBytes));
  return {
    host,
    port: server.address().port,
    connections,
    clientStream,
    /** true if `text` (e.g. a reading's JSON, a topic, a password) went from a client in the clear */
    sawPlaintext: (text) => clientStream().includes(Buffer.from(text, 'latin1')),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---- servers ----------------------------------------------------------------------------------

async function serve(kind, { pki, brokerOptions = {}, tamper = null, users, clock = null, expect }) {
  const broker = await startBroker({
    pki,
    users: users === undefined ? { [TLS_TEST_USER.name]: TLS_TEST_USER.password } : users,
    clock,
    ...HIVEMQ_LIKE_TLS,
    ...brokerOptions,
  });
  let proxy;
  try {
    proxy = await createTlsProxy({ target: { host: broker.host, port: broker.tlsPort }, tamper });
  } catch (err) {
    await broker.close();
    throw err;
  }
  return {
    kind,
    host: proxy.host,
    port: proxy.port,
    broker,
    proxy,
    pki,
    expect,
    /** the { host, port } the modem's DNS should give for TLS_CLUSTER_HOST */
    address: { host: proxy.host, port: proxy.port },
    async close() {
      await proxy.close();
      await broker.close();
    },
  };
}

/** pki with the server's certificate (chain) replaced by one of makeChainPki's variants */
const withVariant = (pki, name) => ({ ...pki, ...pki.variants[name], caPem: pki.rootPem, rootPem: pki.rootPem });

/**
 * The good server: HiveMQ-Cloud-like (TLS 1.2 only, ECDHE-RSA only, SNI required, session ids
 * and tickets on), sending leaf + intermediate. opts: { pki, chain ('good' | 'wildcard' | 'exact'
 * | 'leafOnly'), brokerOptions (startBroker options: tlsCiphers, tlsOptions, sessionIds, tickets,
 * requireSni, …), users, clock, tamper }.
 */
export function startGoodTlsServer({ pki = tlsTestPki(), chain = 'good', ...o } = {}) {
  return serve('good', { pki: withVariant(pki, chain), expect: { node: null }, ...o });
}

/** A leaf for another host name (broker.example.net): ERR_TLS_CERT_ALTNAME_INVALID. */
export function startWrongHostServer({ pki = tlsTestPki(), ...o } = {}) {
  return serve('wrong-host', { pki: withVariant(pki, 'wrongHost'), expect: { node: 'ERR_TLS_CERT_ALTNAME_INVALID', what: 'host name' }, ...o });
}

/** A chain up to a root the client does not have: UNABLE_TO_GET_ISSUER_CERT_LOCALLY. */
export function startUnknownCaServer({ pki = tlsTestPki(), ...o } = {}) {
  return serve('unknown-ca', { pki: withVariant(pki, 'unknownCa'), expect: { node: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', what: 'unknown CA' }, ...o });
}

/** A leaf that expired on 2024-06-30 (before real time and the rig's default network epoch). */
export function startExpiredServer({ pki = tlsTestPki(), ...o } = {}) {
  return serve('expired', { pki: withVariant(pki, 'expired'), expect: { node: 'CERT_HAS_EXPIRED', what: 'expired' }, ...o });
}

/** A leaf whose validity starts ten years from now. */
export function startNotYetValidServer({ pki = tlsTestPki(), ...o } = {}) {
  return serve('not-yet-valid', { pki: withVariant(pki, 'notYetValid'), expect: { node: 'CERT_NOT_YET_VALID', what: 'not yet valid' }, ...o });
}

/** TLS 1.3 only: a TLS 1.2 client gets the alert protocol_version(70). */
export function startTls13OnlyServer({ pki = tlsTestPki(), brokerOptions = {}, ...o } = {}) {
  return serve('tls13-only', {
    pki: withVariant(pki, 'good'),
    brokerOptions: { tlsMinVersion: 'TLSv1.3', tlsMaxVersion: 'TLSv1.3', ...brokerOptions },
    expect: { node: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', what: 'protocol version' },
    ...o,
  });
}

/**
 * TLS 1.2 with only a cipher suite the firmware lacks (default 'ECDHE-RSA-AES256-GCM-SHA384';
 * 'AES256-GCM-SHA384' is the static-RSA one): the alert handshake_failure(40).
 */
export function startCipherMismatchServer({ pki = tlsTestPki(), cipher = 'ECDHE-RSA-AES256-GCM-SHA384', brokerOptions = {}, ...o } = {}) {
  return serve('cipher-mismatch', {
    pki: withVariant(pki, 'good'),
    brokerOptions: { tlsCiphers: cipher, ...brokerOptions },
    expect: { node: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', what: 'no common cipher suite' },
    ...o,
  });
}

/**
 * The good server behind a proxy that flips one bit of the ServerKeyExchange: in the middle of its
 * signature (tamper 'ske-signature', default: after the RSA public operation the PKCS#1 v1.5
 * padding is garbage, OpenSSL says ERR_SSL_INVALID_PADDING) or of the server's ECDH public value
 * ('ske-point': the padding is fine, the digest differs, ERR_SSL_BAD_SIGNATURE).
 */
export function startTamperedSkeServer({ pki = tlsTestPki(), tamper = 'ske-signature', ...o } = {}) {
  const node = tamper === 'ske-point' ? 'ERR_SSL_BAD_SIGNATURE' : 'ERR_SSL_INVALID_PADDING';
  return serve('tampered-ske', { pki: withVariant(pki, 'good'), tamper, expect: { node, what: 'signature' }, ...o });
}

/** Every refusal case by name (the e2e test and the unit test loop over it). */
export const BAD_SERVERS = {
  'wrong-host': startWrongHostServer,
  'unknown-ca': startUnknownCaServer,
  expired: startExpiredServer,
  'not-yet-valid': startNotYetValidServer,
  'tls13-only': startTls13OnlyServer,
  'cipher-mismatch': startCipherMismatchServer,
  'tampered-ske': startTamperedSkeServer,
};
