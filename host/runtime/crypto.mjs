// require('crypto') (libs/crypto/jswrap_crypto.c): SHA1/SHA224/SHA256/SHA384/SHA512 of the bytes of
// the message (jsvIterateCallback rules: strings are byte strings) -> ArrayBuffer. No HMAC, no
// createHash. AES.encrypt/decrypt as jswrap_crypto_AEScrypt does it on the ESP32 build (below).
// PBKDF2 exists on the ESP32 TLS build but is not simulated (it throws).
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

// crypto.AES.encrypt/decrypt(message, key, options) -> ArrayBuffer, as jswrap_crypto_AEScrypt
// (libs/crypto/jswrap_crypto.c at c5ff787), in its order:
// - options: undefined, or an object {iv, mode}; anything else (null, a number) -> jsError
//   "'options' must be undefined, or an Object" and undefined. iv: its first 16 bytes
//   (jsvIterateCallbackToBytes), zero-filled. mode: undefined -> CBC; 'CBC' 'CFB' 'CTR' 'OFB' 'ECB';
//   anything else (also null or a number) -> exception `Unknown Crypto mode "<mode>"`.
// - message or key undefined -> undefined, nothing printed (JSV_GET_AS_CHAR_ARRAY gives no pointer).
// - key not 128/192/256 bits -> MBEDTLS_ERR_AES_INVALID_KEY_LENGTH (-0x20), which
//   jswrap_crypto_error_to_str does not name: jsError "Unknown error: -0x20", undefined.
// - CBC (iv used): length not a multiple of 16 -> jsError "Invalid input length", undefined.
//   CFB is CFB8 (any length, iv used). CTR: the nonce counter is a local zeroed array, so the
//   counter starts at 0 whatever iv says (128-bit big-endian increment). ECB: whole blocks only
//   (`while (i+15 < len)`); the output buffer has the message's length and a trailing partial
//   block stays zero (a new ArrayBuffer is zeroed). OFB: mbedtls is not called:
//   MBEDTLS_ERR_MD_FEATURE_UNAVAILABLE -> jsError "Feature unavailable", undefined.
// jsError prints "ERROR: <text>" and does not throw.
// ESP32 vs the Linux build: the ESP32 build uses ESP-IDF's mbedtls with CONFIG_MBEDTLS_HARDWARE_AES
// (EspruinoBuildTools esp32/build/app/sdkconfig), where mbedtls_aes_setkey_dec is esp_aes_setkey (the
// raw key; the direction is chosen per call), so decrypt in CFB and CTR modes inverts encrypt. The
// Linux build (software mbedtls in libs/crypto/mbedtls) loads the inverse key schedule for decrypt
// and CFB8/CTR then run the forward cipher with it: its CFB/CTR decrypt does not invert encrypt
// (checked in espruino64). This module follows the ESP32.
export function createAes(R, bytes, errors) {
  // jsvIsObject: a plain object, not an array, typed array, ArrayBuffer or function
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof R.ArrayBuffer);
  function crypt(encrypt, message, key, options) {
    const iv = Buffer.alloc(16);
    let mode = 'CBC';
    if (isObject(options)) {
      if (options.iv !== undefined) Buffer.from(bytes.toByteArray(options.iv).slice(0, 16)).copy(iv);
      const m = options.mode;
      if (m !== undefined) {
        if (typeof m === 'string' && ['CBC', 'CFB', 'CTR', 'OFB', 'ECB'].includes(m)) mode = m;
        else throw errors.error(`Unknown Crypto mode ${JSON.stringify(String(m))}`);
      }
    } else if (options !== undefined) {
      errors.log("ERROR: 'options' must be undefined, or an Object");
      return undefined;
    }
    if (message === undefined) return undefined;
    const msg = Buffer.from(bytes.toByteArray(message));
    if (key === undefined) return undefined;
    const k = Buffer.from(bytes.toByteArray(key));
    if (k.length !== 16 && k.length !== 24 && k.length !== 32) {
      errors.log('ERROR: Unknown error: -0x20');
      return undefined;
    }
    const bits = k.length * 8;
    const run = (alg, ivb, data) => {
      const c = (encrypt || alg.endsWith('ctr') ? createCipheriv : createDecipheriv)(alg, k, ivb);
      c.setAutoPadding(false);
      return Buffer.concat([c.update(data), c.final()]);
    };
    let out;
    if (mode === 'CBC') {
      if (msg.length % 16) {
        errors.log('ERROR: Invalid input length');
        return undefined;
      }
      out = run(`aes-${bits}-cbc`, iv, msg);
    } else if (mode === 'CFB') out = run(`aes-${bits}-cfb8`, iv, msg);
    else if (mode === 'CTR') out = run(`aes-${bits}-ctr`, Buffer.alloc(16), msg);
    else if (mode === 'ECB') {
      out = Buffer.alloc(msg.length);
      const whole = msg.length - (msg.length % 16);
      run(`aes-${bits}-ecb`, null, msg.subarray(0, whole)).copy(out);
    } else {
      errors.log('ERROR: Feature unavailable');
      return undefined;
    }
    return bytes.arrayBuffer(out);
  }
  return {
    encrypt: (message, key, options) => crypt(true, message, key, options),
    decrypt: (message, key, options) => crypt(false, message, key, options),
  };
}

export function createCryptoModule(R, bytes, errors) {
  const m = new R.Object();
  const wrap = (k, f) => R.Function('f', `return function ${k}(){ return f.apply(this, arguments); };`)(f);
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
  const aes = createAes(R, bytes, errors);
  fns.AES = new R.Object();
  for (const k of ['encrypt', 'decrypt']) fns.AES[k] = wrap(k, aes[k]);
  for (const [k, v] of Object.entries(fns)) m[k] = typeof v === 'function' ? wrap(k, v) : v;
  return m;
}
