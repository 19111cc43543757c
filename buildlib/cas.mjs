// Root CAs the presets name. The PEMs come from Node's own trust store (tls.rootCertificates),
// picked by SHA-256 fingerprint, so nothing is downloaded and no certificate blob is committed.

import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';

export const knownCas = {
  // HiveMQ Cloud's chain ends here (Let's Encrypt); valid 2015-06-04 to 2035-06-04 (modem-facts.md §D.1)
  'isrg-root-x1': '96:BC:EC:06:26:49:76:F3:74:60:77:9A:CF:28:C5:A7:CF:E8:A3:C0:AA:E1:1A:8F:FC:EE:05:C0:BD:DF:08:C6',
};

export function caPem(name) {
  const want = knownCas[name];
  if (!want) throw new Error(`unknown CA ${JSON.stringify(name)}`);
  for (const pem of rootCertificates) {
    if (new X509Certificate(pem).fingerprint256 === want) return pem.trim() + '\n';
  }
  throw new Error(`${name} (SHA-256 ${want}) is not in this Node's trust store; pass the PEM file's path instead`);
}
