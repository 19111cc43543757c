// Throw-away test PKI: one CA and one server certificate, made at run time, never committed.
// Certificates are built with node-forge (RSA 2048, SHA-256); the RSA key pairs come from Node's
// crypto (OpenSSL, much faster than forge's pure-JS prime search) and are handed to forge as PEM.
// Cached under the OS tmp dir, keyed by the host list, so repeated test runs skip the work.

import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

const CACHE_VERSION = 1; // bump when the certificate layout changes
const DAY = 24 * 3600 * 1000;
const VALID_DAYS = 3650;

function rsaKeyPair() {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const priv = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e), pem: privateKey };
}

function serial() {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive INTEGER
  b[0] |= 0x10; // no leading zero byte to strip
  return b.toString('hex');
}

function validity(cert) {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - DAY); // tolerate clock skew
  cert.validity.notAfter = new Date(now + VALID_DAYS * DAY);
}

function isIp(h) {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h);
}

function generate(hosts) {
  const ca = rsaKeyPair();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.publicKey;
  caCert.serialNumber = serial();
  validity(caCert);
  const caName = [
    { name: 'commonName', value: 'cellpub throw-away test CA' },
    { name: 'organizationName', value: 'cellpub tests (not trusted anywhere)' },
  ];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const srv = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = srv.publicKey;
  cert.serialNumber = serial();
  validity(cert);
  const dns = [...new Set([...hosts.filter((h) => !isIp(h)), 'localhost'])];
  const ips = [...new Set([...hosts.filter(isIp), '127.0.0.1'])];
  cert.setSubject([{ name: 'commonName', value: dns[0] }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
    {
      name: 'subjectAltName',
      altNames: [...dns.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))],
    },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(caCert),
    certPem: forge.pki.certificateToPem(cert),
    keyPem: srv.pem,
    hosts: dns.concat(ips),
    notAfter: cert.validity.notAfter.getTime(),
  };
}

/**
 * makeTestPki({ hosts }) → { caPem, certPem, keyPem, hosts }
 * `hosts`: DNS names (wildcards such as `*.s1.eu.hivemq.cloud` allowed) and/or IPv4 addresses;
 * `localhost` and 127.0.0.1 are always added. `cache: false` forces a fresh PKI.
 */
export function makeTestPki({ hosts = [], cache = true, cacheDir = join(tmpdir(), 'cellpub-test-pki') } = {}) {
  const key = [...new Set(hosts)].sort();
  const id = createHash('sha256')
    .update(JSON.stringify([CACHE_VERSION, key]))
    .digest('hex')
    .slice(0, 16);
  const file = join(cacheDir, `${id}.json`);
  if (cache) {
    try {
      const c = JSON.parse(readFileSync(file, 'utf8'));
      if (c.caPem && c.certPem && c.keyPem && c.notAfter > Date.now() + 30 * DAY) return c;
    } catch {
      // no cache yet, or a broken one: make a new PKI
    }
  }
  const pki = generate(key);
  if (cache) {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, JSON.stringify(pki), { mode: 0o600 });
    renameSync(tmp, file); // atomic: parallel test processes never read half a file
  }
  return pki;
}
