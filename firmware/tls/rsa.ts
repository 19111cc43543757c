// RSASSA-PKCS1-v1_5 signature verification (RFC 8017 §8.2.2), public exponent only, in slices.
//
// The expected encoded message EM = 00 01 FF…FF 00 || DigestInfo(hash) || digest is built and
// compared byte for byte with sig^e mod n (nothing of the decrypted block is parsed).
// key.m caches R² mod n (Montgomery setup, see bignum.ts) as a binary string of n's length:
// - at run time it is made on the first verify with a key and kept on the key object;
// - for trust anchors, call rsaPrepare(key) on the host at build time and put key.m into the
//   bundle with n and e, so the device never pays the setup for an anchor.

import { powMod } from './bignum';
import { slices } from './slices';

export interface RsaKey {
  /** big-endian modulus, no leading zero byte */
  n: string;
  e: number;
  /** R² mod n (binary string, n's length), made on first use or by rsaPrepare */
  m?: any;
}

// DER of DigestInfo's AlgorithmIdentifier and OCTET STRING header, per hash (RFC 8017 §9.2 note 1)
function digestInfo(hash: string): string {
  const oid = hash === 'SHA256' ? '\x01' : hash === 'SHA384' ? '\x02' : hash === 'SHA512' ? '\x03' : '';
  if (!oid) return '';
  const len = hash === 'SHA256' ? 32 : hash === 'SHA384' ? 48 : 64;
  return String.fromCharCode(0x30, 0x11 + len) + '\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02' + oid + '\x05\x00\x04' + String.fromCharCode(len);
}

/** Encoded message for the digest, emLen bytes, or '' when the hash is unknown, the digest's length is wrong or emLen too short */
function encode(hash: string, digest: string, emLen: number): string {
  const di = digestInfo(hash);
  if (!di || digest.length !== di.charCodeAt(di.length - 1)) return '';
  const t = di + digest;
  const ps = emLen - t.length - 3;
  if (ps < 8) return '';
  let f = '\xff';
  while (f.length * 2 <= ps) f += f;
  return '\x00\x01' + f + f.substr(0, ps - f.length) + '\x00' + t;
}

/** The first key limits what a verify will take: 512 to 4096-bit moduli, odd e from 3 to 2^31 - 1 */
function keyOk(key: RsaKey): boolean {
  const n = key && key.n;
  const e = key && key.e;
  return (
    typeof n === 'string' &&
    n.length >= 64 &&
    n.length <= 512 &&
    (n.charCodeAt(0) & 255) !== 0 &&
    (n.charCodeAt(n.length - 1) & 1) === 1 &&
    typeof e === 'number' &&
    e >= 3 &&
    e < 2147483648 &&
    e % 2 === 1
  );
}

/** sig < n, both big-endian of the same length */
function below(sig: string, n: string): boolean {
  for (let i = 0; i < n.length; i++) {
    const a = sig.charCodeAt(i) & 255;
    const b = n.charCodeAt(i) & 255;
    if (a !== b) return a < b;
  }
  return false;
}

/**
 * Verifies an RSASSA-PKCS1-v1_5 signature: done(true) when sig is key's signature of a message
 * whose hash (hash: 'SHA256' | 'SHA384' | 'SHA512') is digest; done(false) for anything else,
 * malformed input included. Never throws; done is always called later, from a timer.
 */
export function rsaVerify(key: RsaKey, hash: string, digest: string, sig: string, done: (ok: boolean) => void): void {
  let em = '';
  let job: ReturnType<typeof powMod> | null = null;
  try {
    if (keyOk(key) && typeof sig === 'string' && typeof digest === 'string' && sig.length === key.n.length && below(sig, key.n)) {
      em = encode(hash, digest, key.n.length);
      const m = typeof key.m === 'string' && key.m.length === key.n.length ? key.m : '';
      if (em) job = powMod(key.n, key.e, sig, m);
    }
  } catch (err) {
    job = null;
  }
  if (!job) {
    setTimeout(() => done(false), 0);
    return;
  }
  const j = job;
  slices(j.work, () => {
    if (typeof key.m !== 'string') key.m = j.r2();
    done(j.result() === em);
  });
}

/**
 * Host/build side (also works on the device, blocking): computes key.m (R² mod n) now, so that
 * rsaVerify with this key skips the per-key setup. Throws on a key rsaVerify would refuse.
 */
export function rsaPrepare(key: RsaKey): void {
  if (!keyOk(key)) throw new Error('rsaPrepare: unsupported RSA key');
  const j = powMod(key.n, key.e, '', '');
  while (!j.work()) {
    /* all slices at once */
  }
  key.m = j.r2();
}
