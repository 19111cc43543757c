// PLACEHOLDER for helper A's firmware/tls/rsa.ts (issue 12): only the agreed types, so that
// x509.ts type-checks in this branch. x509.ts imports them with `import type`, so nothing of this
// file (or of A's real one) enters the x509 bundle. A's file replaces this one at the merge.

export interface RsaKey {
  n: string;
  e: number;
  m?: any;
}

export declare function rsaVerify(key: RsaKey, hash: string, digest: string, sig: string, done: (ok: boolean) => void): void;
