// AES-128-GCM (NIST SP 800-38D) for TLS 1.2 records (RFC 5288): 12-byte nonces, 16-byte tags,
// binary strings at the boundary. AES is Espruino's native one (require('crypto').AES, hardware
// AES on the ESP32): its CTR mode always starts its counter at 0 (the iv is ignored), so GCM's
// counter mode is built on ECB: the counter blocks J0, J0+1 … J0+n of a record are made as one
// string and encrypted in ONE native call (E(K, J0) for the tag comes out of the same call).
// H = E(K, 0^128) once per key.
//
// GHASH runs in code, Shoup's method with 8-bit tables: per key M[b] = b·H for every byte b, as
// four Int32Array(256) (word w of each entry; 4 KB per key), plus one key-independent table R of
// the reduction of the byte shifted out (Uint16Array(256), 512 B, made once). Per 16-byte block:
// Z = M[x15], then for bytes 14 … 0: Z = Z·x^8 + M[x_i] (a one-byte shift of 4 words, one R
// lookup). Measured in the native interpreter this is the fastest exact variant we tried (bench/
// tls-gcm.mjs prints the figures): 8-bit tables ≈ 0.34 ms per block, two 4-bit (nibble) tables
// with byte steps ≈ 0.5 ms (512 B per key), bit-serial 2.7 ms (the figure).
//
// Words are "little-endian byte order" views: word j of a block holds bytes 4j … 4j+3 with byte
// 4j in the low 8 bits, which is how an Int32Array over the block's bytes reads them on the ESP32
// (little-endian, as are x86 hosts). GCM's bit order puts the polynomial's x^0 in the top bit of
// byte 0, so "Z·x^8" moves every byte one place up (byte 15 drops out and is folded back into
// bytes 0 and 1 through R): in these words z << 8 with the top byte carried to the next word.

/** a string of n NUL bytes (n ≤ 16) */
var ZEROS = '\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0';

/** reduction of the byte r that Z·x^8 shifts out of byte 15, as bytes 0-1 in a word's low 16 bits */
var R: Uint16Array | undefined;

function reductionTable(): Uint16Array {
  var t = new Uint16Array(256);
  // bit 2^k of byte 15 is x^(127-k); times x^8 it is x^(135-k) = x^(7-k)·(1 + x + x^2 + x^7) mod
  // P = x^128 + x^7 + x^2 + x + 1: degrees 7-k, 8-k, 9-k, 14-k, all in bytes 0-1
  for (var k = 0; k < 8; k++) {
    var v = 0;
    for (var j = 0; j < 4; j++) {
      var d = [7, 8, 9, 14][j] - k;
      v ^= (0x80 >> (d & 7)) << (8 * (d >> 3));
    }
    t[1 << k] = v;
  }
  for (var i = 2; i < 256; i <<= 1) for (var m = 1; m < i; m++) t[i + m] = t[i] ^ t[m];
  return t;
}

/** the block padded with NULs to a multiple of 16 bytes */
function pad16(s: string): string {
  return s + ZEROS.substr(0, (16 - (s.length & 15)) & 15);
}

/** 4-byte big-endian */
function be32(n: number): string {
  return String.fromCharCode(n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255);
}

export interface Gcm {
  /** cipher + 16-byte tag */
  seal(nonce: string, aad: string, plain: string): string;
  /** the plaintext, or null when the tag does not match (nothing is decrypted then) */
  open(nonce: string, aad: string, sealed: string): string | null;
}

/** AES-128-GCM with a 16-byte key (a binary string) */
export function createGcm(key: string): Gcm {
  var aes = globalThis.require('crypto').AES;
  if (!R) R = reductionTable();
  var r = R;
  // M[b] = b·H: M[0x80] = H, M[0x40] = H·x, … M[1] = H·x^7, the rest by linearity
  var M0 = new Int32Array(256),
    M1 = new Int32Array(256),
    M2 = new Int32Array(256),
    M3 = new Int32Array(256);
  var h = new Int32Array(aes.encrypt(ZEROS, key, { mode: 'ECB' }));
  var a = h[0],
    b = h[1],
    c = h[2],
    d = h[3];
  for (var bit = 128; bit; bit >>= 1) {
    M0[bit] = a;
    M1[bit] = b;
    M2[bit] = c;
    M3[bit] = d;
    // ·x: every bit one place towards x^127 (per byte: >> 1, the low bit into the next byte's top)
    var lsb = (d >>> 24) & 1 ? 0xe1 : 0; // x^127 (the low bit of byte 15) was set: reduce (x^128 = 1 + x + x^2 + x^7)
    d = ((d >>> 1) & 0x7f7f7f7f) | ((d << 15) & 0x80808000) | ((c >>> 17) & 0x80);
    c = ((c >>> 1) & 0x7f7f7f7f) | ((c << 15) & 0x80808000) | ((b >>> 17) & 0x80);
    b = ((b >>> 1) & 0x7f7f7f7f) | ((b << 15) & 0x80808000) | ((a >>> 17) & 0x80);
    a = (((a >>> 1) & 0x7f7f7f7f) | ((a << 15) & 0x80808000)) ^ lsb;
  }
  for (var i = 2; i < 256; i <<= 1)
    for (var j = 1; j < i; j++) {
      M0[i + j] = M0[i] ^ M0[j];
      M1[i + j] = M1[i] ^ M1[j];
      M2[i + j] = M2[i] ^ M2[j];
      M3[i + j] = M3[i] ^ M3[j];
    }
  var Y = new Int32Array(4);
  var Yb = new Uint8Array(Y.buffer);

  /** GHASH(H, A, C) with the J0 block's encryption folded in: the tag words, in Y */
  function ghash(aad: string, cipher: string) {
    var s = pad16(aad) + pad16(cipher) + '\0\0\0\0' + be32(aad.length * 8) + '\0\0\0\0' + be32(cipher.length * 8);
    var D = new Int32Array(E.toUint8Array(s).buffer);
    var n = D.length;
    var y = Y,
      yb = Yb,
      m0 = M0,
      m1 = M1,
      m2 = M2,
      m3 = M3,
      t = r;
    var z0, z1, z2, z3, x, q, k, w;
    y[0] = y[1] = y[2] = y[3] = 0;
    for (q = 0; q < n; q += 4) {
      y[0] ^= D[q];
      y[1] ^= D[q + 1];
      y[2] ^= D[q + 2];
      y[3] ^= D[q + 3];
      x = yb[15];
      z0 = m0[x];
      z1 = m1[x];
      z2 = m2[x];
      z3 = m3[x];
      for (k = 14; k >= 0;) {
        x = yb[k--];
        w = t[z3 >>> 24] ^ m0[x]; // byte 15 folded back, and byte 0 of M[x]
        z3 = ((z3 << 8) | (z2 >>> 24)) ^ m3[x];
        z2 = ((z2 << 8) | (z1 >>> 24)) ^ m2[x];
        z1 = ((z1 << 8) | (z0 >>> 24)) ^ m1[x];
        z0 = (z0 << 8) ^ w;
      }
      y[0] = z0;
      y[1] = z1;
      y[2] = z2;
      y[3] = z3;
    }
  }

  /** E(K, J0), E(K, J0+1) … E(K, J0+n) for len bytes of data, in one native call, as words */
  function keystream(nonce: string, len: number): Int32Array {
    var s = nonce + '\0\0\0\x01';
    for (var i = 2, n = ((len + 15) >> 4) + 1; i <= n; i++) s += nonce + be32(i);
    return new Int32Array(aes.encrypt(s, key, { mode: 'ECB' }));
  }

  /** data XOR the keystream after its first block, as a binary string of data's length */
  function xor(data: string, ks: Int32Array): string {
    var u = E.toUint8Array(pad16(data));
    var w = new Int32Array(u.buffer);
    for (var i = 0; i < w.length; i++) w[i] ^= ks[i + 4];
    return E.toString(u).substr(0, data.length);
  }

  return {
    seal: function (nonce: string, aad: string, plain: string): string {
      var ks = keystream(nonce, plain.length);
      var cipher = xor(plain, ks);
      ghash(aad, cipher);
      for (var i = 0; i < 4; i++) Y[i] ^= ks[i];
      return cipher + E.toString(Yb);
    },
    open: function (nonce: string, aad: string, sealed: string): string | null {
      var n = sealed.length - 16;
      if (n < 0) return null;
      var cipher = sealed.substr(0, n);
      var tag = new Int32Array(E.toUint8Array(sealed.substr(n)).buffer);
      var ks = keystream(nonce, n);
      ghash(aad, cipher);
      var diff = 0;
      for (var i = 0; i < 4; i++) diff |= Y[i] ^ ks[i] ^ tag[i];
      return diff ? null : xor(cipher, ks);
    },
  };
}
