// Stand-ins for the TLS client's crypto kit (firmware/tls/client.ts TlsKit) made of Node's crypto,
// and a plain Socket (firmware/mqtt-client/socket.ts) over node:net, for test/tls-client.test.mjs.
// Bytes are binary strings ('latin1') at every boundary, as on the device.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  publicDecrypt,
  randomBytes,
  X509Certificate,
  constants,
} from 'node:crypto';
import net from 'node:net';

const B = (s) => Buffer.from(s, 'latin1');
const S = (b) => Buffer.from(b).toString('latin1');
const b64u = (s) => B(s).toString('base64url');

/** TLS 1.2 PRF (RFC 5246 §5) with HMAC-SHA256. */
export function prf(secret, label, seed, len) {
  const mac = (d) => createHmac('sha256', B(secret)).update(d).digest();
  const s = Buffer.concat([B(label), B(seed)]);
  let a = s;
  let out = Buffer.alloc(0);
  while (out.length < len) {
    a = mac(a);
    out = Buffer.concat([out, mac(Buffer.concat([a, s]))]);
  }
  return S(out.subarray(0, len));
}

const DIGEST_INFO = {
  SHA256: '3031300d060960864801650304020105000420',
  SHA384: '3041300d060960864801650304020205000430',
  SHA512: '3051300d060960864801650304020305000440',
};

/**
 * makeKit({ caPem, async }) → kit with call counters (kit.calls.x25519 …). verifyChain checks the
 * chain against caPem with X509Certificate (issuer, signature, dates, host); async: callbacks from
 * setImmediate (as the sliced firmware primitives call back from timers).
 */
export function makeKit({ caPem, async = true, override = {} } = {}) {
  const calls = { x25519: 0, rsaVerify: 0, verifyChain: 0 };
  const later = (f) => (async ? setImmediate(f) : f());
  const ca = caPem ? new X509Certificate(caPem) : null;
  const kit = {
    calls,
    random: (n) => S(randomBytes(n)),
    hash: (name, s) => S(createHash(name.toLowerCase()).update(B(s)).digest()),
    prf,
    gcm(key) {
      const k = B(key);
      return {
        seal(nonce, aad, plain) {
          const c = createCipheriv('aes-128-gcm', k, B(nonce));
          c.setAAD(B(aad));
          return S(Buffer.concat([c.update(B(plain)), c.final(), c.getAuthTag()]));
        },
        open(nonce, aad, sealed) {
          const b = B(sealed);
          if (b.length < 16) return null;
          const d = createDecipheriv('aes-128-gcm', k, B(nonce));
          d.setAAD(B(aad));
          d.setAuthTag(b.subarray(b.length - 16));
          try {
            return S(Buffer.concat([d.update(b.subarray(0, b.length - 16)), d.final()]));
          } catch {
            return null;
          }
        },
      };
    },
    x25519(k, u, done) {
      calls.x25519++;
      const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), B(k)]), format: 'der', type: 'pkcs8' });
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(u) }, format: 'jwk' });
      let out;
      try {
        out = S(diffieHellman({ privateKey, publicKey }));
      } catch {
        out = '\0'.repeat(32); // OpenSSL refuses an all-zero result; RFC 7748 gives it
      }
      later(() => done(out));
    },
    rsaVerify(key, hash, digest, sig, done) {
      calls.rsaVerify++;
      let ok = false;
      try {
        const pub = createPublicKey({
          key: { kty: 'RSA', n: b64u(key.n), e: Buffer.from(key.e.toString(16).padStart(6, '0'), 'hex').toString('base64url') },
          format: 'jwk',
        });
        const em = publicDecrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, B(sig));
        ok = em.equals(Buffer.concat([Buffer.from(DIGEST_INFO[hash], 'hex'), B(digest)]));
      } catch {
        ok = false;
      }
      later(() => done(ok));
    },
    verifyChain(chain, host, now, done) {
      calls.verifyChain++;
      let err = null;
      let leaf;
      try {
        const certs = chain.map((d) => new X509Certificate(B(d)));
        for (let i = 0; i < certs.length && !err; i++) {
          const c = certs[i];
          const issuer = i + 1 < certs.length ? certs[i + 1] : ca;
          if (!issuer || !c.checkIssued(issuer) || !c.verify(issuer.publicKey)) err = 'it is not signed by a trusted CA';
          else if (now && (Date.parse(c.validFrom) / 1000 > now || Date.parse(c.validTo) / 1000 < now)) err = 'it has expired or is not valid yet';
        }
        if (!err && !certs[0].checkHost(host)) err = 'it is not for ' + host;
        if (!err) {
          const j = certs[0].publicKey.export({ format: 'jwk' });
          leaf = {
            key:
              j.kty === 'RSA'
                ? { n: S(Buffer.from(j.n, 'base64url')), e: Buffer.from(j.e, 'base64url').readUIntBE(0, Buffer.from(j.e, 'base64url').length) }
                : null,
          };
        }
      } catch (e) {
        err = 'it cannot be read: ' + e.message;
      }
      later(() => done(err, leaf));
    },
    ...override,
  };
  return kit;
}

/**
 * A plain Socket over node:net. chunk(bytes) → array of pieces, to deliver the server's bytes in any
 * chunking (each piece in its own tick when spread); tamper(bytes) rewrites what the server sent.
 */
export function netSocket({ chunk, spread = false, tamper } = {}) {
  let conn = null;
  const sock = {
    sent: [],
    open(host, port, tls, cb) {
      let opened = false;
      const me = (conn = net.connect(port, host));
      const live = () => conn === me; // a closed connection's late events are not the new one's
      conn.on('connect', () => {
        opened = true;
        cb(null);
      });
      conn.on('error', (e) => {
        if (!opened) {
          opened = true;
          cb(e.message);
        }
      });
      let pending = Promise.resolve();
      conn.on('data', (buf) => {
        if (!live()) return;
        let s = S(buf);
        if (tamper) s = tamper(s);
        const pieces = chunk ? chunk(s) : [s];
        if (!spread) for (const p of pieces) sock.onData(p);
        else for (const p of pieces) pending = pending.then(() => new Promise((r) => setImmediate(() => (sock.onData(p), r()))));
      });
      conn.on('close', () => pending.then(() => live() && sock.onClose('the server closed the TCP connection')));
    },
    send(data, cb) {
      sock.sent.push(data);
      if (!conn || conn.destroyed) return cb('closed');
      conn.write(B(data), (e) => cb(e ? e.message : null));
    },
    close(cb) {
      if (conn) conn.end();
      conn = null;
      cb();
    },
    onData() {},
    onClose() {},
  };
  return sock;
}
