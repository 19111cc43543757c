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

// ---- A chain shaped like HiveMQ Cloud's (Let's Encrypt) ------------------------------------
// ISRG Root X1 (RSA 4096, self-signed) → R10/R11 (RSA 2048, cA, pathLen 0) → leaf (RSA 2048,
// SAN dNSName *.s1.eu.hivemq.cloud). The server sends leaf + intermediate; the client trusts the
// root only. Every certificate is signed sha256WithRSAEncryption, as Let's Encrypt's RSA chain is.
// Besides the good chain, the same call makes the certificates the refusal tests need (all for
// the same host names unless said otherwise): a leaf for another name, an expired leaf, a leaf not
// yet valid, and a whole second chain (its own root and intermediate) that the client does not
// trust.
//
// Dates: the good certificates are valid from 2024-01-01 (or a year before now, whichever is
// earlier) to ten years after they were made, so they hold both at real time and at the
// simulated network's default epoch (2025-01-01, host/testing/rig.mjs DEFAULT_NETWORK_EPOCH).
// The expired leaf ended on 2024-06-30 (before both); the not-yet-valid one starts ten years on.

const CHAIN_CACHE_VERSION = 1; // bump when the chain layout changes
const CHAIN_EPOCH = Date.UTC(2024, 0, 1);
const EXPIRED_FROM = Date.UTC(2024, 0, 1);
const EXPIRED_TO = Date.UTC(2024, 5, 30);

function rsaKeys(bits) {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const priv = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e), pem: privateKey };
}

const nameAttrs = (cn, o) => [
  { name: 'countryName', value: 'XX' },
  { name: 'organizationName', value: o },
  { name: 'commonName', value: cn },
];

/** One certificate. issuer: { cert, keys } or null (self-signed). */
function makeCert({ keys, subject, issuer, from, to, ca, pathLen, names = [], ips = [] }) {
  const c = forge.pki.createCertificate();
  c.publicKey = keys.publicKey;
  c.serialNumber = serial();
  c.validity.notBefore = new Date(from);
  c.validity.notAfter = new Date(to);
  c.setSubject(subject);
  c.setIssuer(issuer ? issuer.cert.subject.attributes : subject);
  const ext = [];
  if (ca) {
    const bc = { name: 'basicConstraints', cA: true, critical: true };
    if (pathLen !== undefined) bc.pathLenConstraint = pathLen;
    ext.push(bc, { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true });
  } else {
    ext.push(
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...names.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))],
      },
    );
  }
  ext.push({ name: 'subjectKeyIdentifier' });
  if (issuer) ext.push({ name: 'authorityKeyIdentifier', keyIdentifier: issuer.cert.generateSubjectKeyIdentifier().getBytes() });
  c.setExtensions(ext);
  c.sign((issuer || { keys }).keys.privateKey, forge.md.sha256.create());
  return { cert: c, keys, pem: forge.pki.certificateToPem(c) };
}

function generateChain({ hosts, rootBits, wrongHost, exactLabel }) {
  const now = Date.now();
  const from = Math.min(CHAIN_EPOCH, now - 365 * DAY);
  const to = now + VALID_DAYS * DAY;
  const dns = hosts.filter((h) => !isIp(h));
  const ips = hosts.filter(isIp);

  const caPair = (tag, org) => {
    const root = makeCert({ keys: rsaKeys(rootBits), subject: nameAttrs(`cellpub test ${tag} Root X1`, org), from, to, ca: true });
    const inter = makeCert({
      keys: rsaKeys(2048),
      subject: nameAttrs(`cellpub test ${tag} R10`, org),
      issuer: root,
      from,
      to,
      ca: true,
      pathLen: 0,
    });
    return { root, inter };
  };
  const good = caPair('ISRG-like', 'cellpub tests (not trusted anywhere)');
  const other = caPair('Unknown', 'cellpub tests: a CA the device does not trust');

  const leafKeys = rsaKeys(2048); // one key for the leaves of the good chain (as a renewal keeps it)
  const leaf = (names, a, b, issuer = good.inter, keys = leafKeys, withIps = ips) =>
    makeCert({ keys, subject: nameAttrs(names[0] || 'localhost', 'cellpub tests').slice(2), issuer, from: a, to: b, names, ips: withIps });
  const served = (l, inter) => ({ certPem: l.pem + inter.pem, leafPem: l.pem, keyPem: l.keys.pem });

  const wildcard = dns.filter((h) => h.startsWith('*.'));
  // the exact variant names one host under the first wildcard (as a dedicated cluster cert would)
  const exact = wildcard.length ? [wildcard[0].replace('*', exactLabel)] : dns.slice(0, 1);
  const main = leaf(dns, from, to);
  const out = {
    rootBits,
    hosts,
    rootPem: good.root.pem,
    intermediatePem: good.inter.pem,
    caPem: good.root.pem, // what startBroker / subscribe / a client trusts
    ...served(main, good.inter),
    notAfter: to,
    variants: {
      good: served(main, good.inter),
      wildcard: wildcard.length ? served(leaf(wildcard, from, to), good.inter) : null,
      exact: exact.length ? served(leaf(exact, from, to, good.inter, leafKeys, []), good.inter) : null,
      wrongHost: served(leaf([wrongHost], from, to, good.inter, leafKeys, []), good.inter),
      expired: served(leaf(dns, EXPIRED_FROM, EXPIRED_TO), good.inter),
      notYetValid: served(leaf(dns, now + VALID_DAYS * DAY, now + 2 * VALID_DAYS * DAY), good.inter),
      unknownCa: {
        ...served(leaf(dns, from, to, other.inter, rsaKeys(2048)), other.inter),
        rootPem: other.root.pem,
        intermediatePem: other.inter.pem,
      },
      // the leaf alone, without the intermediate (a misconfigured server; the device then needs
      // the intermediate as an anchor)
      leafOnly: { certPem: main.pem, leafPem: main.pem, keyPem: leafKeys.pem },
    },
  };
  return out;
}

/**
 * makeChainPki({ hosts, rootBits = 4096, wrongHost, cache, cacheDir }) → {
 *   rootPem, intermediatePem, caPem (= rootPem), certPem (leaf + intermediate PEMs), leafPem,
 *   keyPem, hosts, rootBits, notAfter,
 *   variants: { good, wildcard, exact, wrongHost, expired, notYetValid, unknownCa, leafOnly }
 * } where each variant is { certPem (what the server sends), leafPem, keyPem } (unknownCa adds its
 * own rootPem and intermediatePem; wildcard is null when hosts has no wildcard name).
 * The object itself fits startBroker's `pki` option (caPem, certPem, keyPem); so does
 * { ...pki, ...pki.variants.expired }.
 * hosts: DNS names (wildcards allowed) and IPv4 addresses for the leaf's subjectAltName, default
 * ['*.s1.eu.hivemq.cloud', 'localhost', '127.0.0.1']; the leaf's CN is the first name.
 * rootBits: 4096 (like ISRG Root X1) or 2048 (a cheaper root for the device's RSA check).
 * wrongHost: the only name in the wrongHost leaf (default 'broker.example.net'; no IP addresses).
 * exactLabel: the exact variant's leaf names only '<exactLabel>' + the first wildcard's suffix
 * (default c0ffee42.s1.eu.hivemq.cloud, host/testing/rig.mjs CLUSTER_HOST); wildcard: the
 * wildcard names alone (plus the IP addresses); good: all of hosts.
 * Cached like makeTestPki (keyed by hosts, rootBits, wrongHost), renewed when under 30 days remain.
 */
export function makeChainPki({
  hosts = ['*.s1.eu.hivemq.cloud', 'localhost', '127.0.0.1'],
  rootBits = 4096,
  wrongHost = 'broker.example.net',
  exactLabel = 'c0ffee42',
  cache = true,
  cacheDir = join(tmpdir(), 'cellpub-test-pki'),
} = {}) {
  if (rootBits !== 2048 && rootBits !== 4096) throw new Error(`makeChainPki: rootBits must be 2048 or 4096, got ${rootBits}`);
  const key = [...new Set(hosts)];
  const id = createHash('sha256')
    .update(JSON.stringify(['chain', CHAIN_CACHE_VERSION, key, rootBits, wrongHost, exactLabel]))
    .digest('hex')
    .slice(0, 16);
  const file = join(cacheDir, `chain-${id}.json`);
  if (cache) {
    try {
      const c = JSON.parse(readFileSync(file, 'utf8'));
      if (c.rootPem && c.certPem && c.keyPem && c.variants && c.notAfter > Date.now() + 30 * DAY) return c;
    } catch {
      // no cache yet, or a broken one
    }
  }
  const pki = generateChain({ hosts: key, rootBits, wrongHost, exactLabel });
  if (cache) {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, JSON.stringify(pki), { mode: 0o600 });
    renameSync(tmp, file);
  }
  return pki;
}
