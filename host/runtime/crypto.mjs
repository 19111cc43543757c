// require('crypto') (libs/crypto/jswrap_crypto.c): SHA1/SHA224/SHA256/SHA384/SHA512 of the bytes of
// the message (jsvIterateCallback rules: strings are byte strings) -> ArrayBuffer. No HMAC, no
// createHash. PBKDF2 and AES exist on the ESP32 TLS build but are not simulated (they throw).
import { createHash } from 'node:crypto';

export function createCryptoModule(R, bytes, errors) {
  const m = new R.Object();
  const sha = (alg) =>
    function (message) {
      const data = Buffer.from(bytes.toByteArray(message));
      return bytes.arrayBuffer(Array.from(createHash(alg).update(data).digest()));
    };
  const fns = {
    SHA1: sha('sha1'),
    SHA224: sha('sha224'),
    SHA256: sha('sha256'),
    SHA384: sha('sha384'),
    SHA512: sha('sha512'),
    PBKDF2() {
      throw errors.error('crypto.PBKDF2 is not simulated by the host runtime');
    },
  };
  fns.AES = new R.Object();
  for (const k of ['encrypt', 'decrypt']) {
    fns.AES[k] = R.Function(
      'f',
      `return function ${k}(){ return f.apply(this, arguments); };`,
    )(() => {
      throw errors.error(`crypto.AES.${k} is not simulated by the host runtime`);
    });
  }
  for (const [k, v] of Object.entries(fns)) {
    m[k] = typeof v === 'function' ? R.Function('f', `return function ${k}(){ return f.apply(this, arguments); };`)(v) : v;
  }
  return m;
}
