// Root CAs the presets name. The PEMs come from Node's own trust store (tls.rootCertificates),
// picked by SHA-256 fingerprint, so nothing is downloaded and no certificate blob is committed.

import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';

export const knownCas = {
  // HiveMQ Cloud's chain ends here (Let's Encrypt); valid 2015-06-04 to 2035-06-04 (modem-facts.md §D.1)
  'isrg-root-x1': '96:BC:EC:06:26:49:76:F3:74:60:77:9A:CF:28:C5:A7:CF:E8:A3:C0:AA:E1:1A:8F:FC:EE:05:C0:BD:DF:08:C6',
  // Azure IoT Hub's chain ends at DigiCert Global Root G2; Microsoft RSA Root CA 2017 is the
  // other root Microsoft says to trust (modem-facts.md §D.2, AZ-TLS)
  'digicert-global-root-g2': 'CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F',
  'microsoft-rsa-root-2017': 'C7:41:F7:0F:4B:2A:8D:88:BF:2E:71:C1:41:22:EF:53:EF:10:EB:A0:CF:A5:E6:4C:FA:20:F4:18:85:30:73:E0',
};

/** Named bundles: several roots in one PEM file on the modem. Each must stay within the 3072 bytes
 *  the A76xx takes in one CCERTDOWN packet ("every packet data should be no larger than 3072
 *  bytes", A76XX AT manual §19.2.2); the firmware writes a PEM in one go.
 *  azure: only the root IoT Hub's chain ends at today (DigiCert Global Root G2, 1291 bytes). With
 *  Microsoft RSA Root CA 2017 beside it the file is 3308 bytes, over the cap; should Microsoft move
 *  the hub to that root, set broker.ca to "microsoft-rsa-root-2017" and flash again. */
export const caBundles = {
  azure: ['digicert-global-root-g2'],
};

export function caPem(name) {
  if (caBundles[name]) return caBundles[name].map(caPem).join('');
  const want = knownCas[name];
  if (!want) throw new Error(`unknown CA ${JSON.stringify(name)}`);
  for (const pem of rootCertificates) {
    if (new X509Certificate(pem).fingerprint256 === want) return pem.trim() + '\n';
  }
  throw new Error(`${name} (SHA-256 ${want}) is not in this Node's trust store; pass the PEM file's path instead`);
}
