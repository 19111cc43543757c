// AES-128-GCM (NIST SP 800-38D) for TLS 1.2 records (RFC 5288): 12-byte nonces, 16-byte tags,
// binary strings at the boundary. AES is Espruino's native one (require('crypto').AES, hardware
// AES on the ESP32): its CTR mode always starts its counter at 0 (the iv is ignored), so GCM's
// counter mode is built on ECB: the counter blocks J0, J0+1 … J0+n of a record are made as one
// string and encrypted in ONE native call (E(K, J0) for the tag comes out of the same call).
// H = E(K, 0^128) once per key.
//
// GHASH runs in code, Shoup's method with 4-bit tables and byte steps: per key the nibble tables
// of H, (n << 4)·H and n·H for n = 0 … 15, in ONE Int32Array(128) (512 B), plus one key-independent
// table R of the reduction of the byte shifted out (Uint16Array(256), 512 B, made once and shared).
// Per 16-byte block: Z = x15·H, then for bytes 14 … 0: Z = Z·x^8 + x_i·H, where x·H is the XOR of
// the two nibble entries (a one-byte shift of 4 words, one R lookup, 8 table lookups per byte).
//
// Why 4-bit and not 8-bit tables: a TLS connection holds two Gcm (client and server write keys) for
// as long as it lives (months on the T-Call SIM800L, whose bundle is at its RAM budget). Measured
// (bench/tls-gcm.mjs prints the current figures; the comparison below ran the bundled variants
// side by side in one native x86-64 interpreter, the least of 15 interleaved runs, as the shared
// host's load swings the single figures by up to 2×; JsVars: the ESP32-sized 32-bit interpreter):
//   8-bit tables (M[b] = b·H, four Int32Array(256), 4 KB per key, closures per Gcm):
//     GHASH 0.28-0.34 ms per block, createGcm 5.0-5.9 ms, 470-475 JsVars per Gcm (549 for the
//     first in the bench, which also makes R)
//   4-bit tables as here (seal/open shared, the Gcm an object {k, m, seal, open}):
//     GHASH 0.43-0.45 ms per block (≈ 1.4-1.5×), createGcm 1.0-1.1 ms, 49 JsVars per Gcm (133 for
//     the first in the bench, which also makes R and the scratch block Y)
//   the same 4-bit tables with seal/open as closures per Gcm: same speed, 98 JsVars per Gcm
//   4-bit tables as four Int32Array(32) or views into one buffer: same speed, +16 JsVars per key;
//   as eight Int32Array(16): +33
//   bit-serial: 2.7 ms per block (the figure)
// A 100-byte record costs ≈ 1.3 ms more to seal or open (7-8 blocks with header, length block and
// AAD); a connection saves ≈ 850 JsVars for its whole life and 8-10 ms (≈ 0.4-0.5 s on the ESP32
// at ×50) of createGcm per handshake. Not tried: one 16-entry table with nibble steps (256 B,
// ≈ 20 JsVars less) needs twice the steps, each a 4-bit shift across bytes: estimated ≈ 2× this
// variant, over the ≈ 0.6 ms per block we allow.
//
// seal and open are shared functions that read the key and tables from `this`: call them as
// methods (g.seal(…)), never detached.
//
// Words are "little-endian byte order" views: word j of a block holds bytes 4j … 4j+3 with byte
// 4j in the low 8 bits, which is how an Int32Array over the block's bytes reads them on the ESP32
// (little-endian, as are x86 hosts). GCM's bit order puts the polynomial's x^0 in the top bit of
// byte 0, so "Z·x^8" moves every byte one place up (byte 15 drops out and is folded back into
// bytes 0 and 1 through R): in these words z << 8 with the top byte carried to the next word.

/** a string of n NUL bytes (n ≤ 16) */
var ZEROS = '\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0';

/** reduction of the byte r that Z·x^8 shifts out of byte 15, as bytes 0-1 in a word's low 16 bits
 * (key-independent, shared by every Gcm, made by the first createGcm) */
var R: Uint16Array | undefined;
/** GHASH's running value Y as words and as bytes (shared scratch: seal and open are synchronous) */
var Y: Int32Array | undefined;
var Yb: Uint8Array;

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

/**
 * The nibble tables of H, in one Int32Array(128): word w (0-3) of (n << 4)·H at 32w + n and of
 * n·H at 32w + 16 + n (n = 0 … 15), so byte x·H = T[32w + (x >> 4)] ^ T[32w + 16 + (x & 15)].
 */
function nibbleTables(key: string): Int32Array {
  var T = new Int32Array(128);
  var h = new Int32Array(globalThis.require('crypto').AES.encrypt(ZEROS, key, { mode: 'ECB' }));
  var a = h[0],
    b = h[1],
    c = h[2],
    d = h[3];
  // byte 0x80·H = H, 0x40·H = H·x, … 0x01·H = H·x^7; bytes 0x80 … 0x10 go to the high-nibble
  // table (index bit >> 4), 0x08 … 0x01 to the low-nibble one (index 16 + bit)
  for (var bit = 128; bit; bit >>= 1) {
    var i = bit > 15 ? bit >> 4 : bit + 16;
    T[i] = a;
    T[i + 32] = b;
    T[i + 64] = c;
    T[i + 96] = d;
    // ·x: every bit one place towards x^127 (per byte: >> 1, the low bit into the next byte's top)
    var lsb = (d >>> 24) & 1 ? 0xe1 : 0; // x^127 (the low bit of byte 15) was set: reduce (x^128 = 1 + x + x^2 + x^7)
    d = ((d >>> 1) & 0x7f7f7f7f) | ((d << 15) & 0x80808000) | ((c >>> 17) & 0x80);
    c = ((c >>> 1) & 0x7f7f7f7f) | ((c << 15) & 0x80808000) | ((b >>> 17) & 0x80);
    b = ((b >>> 1) & 0x7f7f7f7f) | ((b << 15) & 0x80808000) | ((a >>> 17) & 0x80);
    a = (((a >>> 1) & 0x7f7f7f7f) | ((a << 15) & 0x80808000)) ^ lsb;
  }
  // the rest by linearity: (i + j)·H = i·H ^ j·H for j < i, i a power of two
  for (var w = 0; w < 128; w += 16) for (i = 2; i < 16; i <<= 1) for (var j = 1; j < i; j++) T[w + i + j] = T[w + i] ^ T[w + j];
  return T;
}

/** the block padded with NULs to a multiple of 16 bytes */
function pad16(s: string): string {
  return s + ZEROS.substr(0, (16 - (s.length & 15)) & 15);
}

/** 4-byte big-endian */
function be32(n: number): string {
  return String.fromCharCode(n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255);
}

/** GHASH(H, A, C) with H's nibble tables m: the result's words in Y */
function ghash(m: Int32Array, aad: string, cipher: string) {
  var s = pad16(aad) + pad16(cipher) + '\0\0\0\0' + be32(aad.length * 8) + '\0\0\0\0' + be32(cipher.length * 8);
  var D = new Int32Array(E.toUint8Array(s).buffer);
  var n = D.length,
    y = Y!,
    yb = Yb,
    t = R!;
  var z0, z1, z2, z3, x, l, q, k, w;
  y[0] = y[1] = y[2] = y[3] = 0;
  for (q = 0; q < n; q += 4) {
    y[0] ^= D[q];
    y[1] ^= D[q + 1];
    y[2] ^= D[q + 2];
    y[3] ^= D[q + 3];
    x = yb[15];
    l = (x & 15) | 16;
    x >>= 4;
    z0 = m[x] ^ m[l];
    z1 = m[x + 32] ^ m[l + 32];
    z2 = m[x + 64] ^ m[l + 64];
    z3 = m[x + 96] ^ m[l + 96];
    for (k = 14; k >= 0;) {
      x = yb[k--];
      l = (x & 15) | 16;
      x >>= 4;
      w = t[z3 >>> 24] ^ m[x] ^ m[l]; // byte 15 folded back, and word 0 of x·H
      z3 = ((z3 << 8) | (z2 >>> 24)) ^ m[x + 96] ^ m[l + 96];
      z2 = ((z2 << 8) | (z1 >>> 24)) ^ m[x + 64] ^ m[l + 64];
      z1 = ((z1 << 8) | (z0 >>> 24)) ^ m[x + 32] ^ m[l + 32];
      z0 = (z0 << 8) ^ w;
    }
    y[0] = z0;
    y[1] = z1;
    y[2] = z2;
    y[3] = z3;
  }
}

/** E(K, J0), E(K, J0+1) … E(K, J0+n) for len bytes of data, in one native call, as words */
function keystream(key: string, nonce: string, len: number): Int32Array {
  var s = nonce + '\0\0\0\x01';
  for (var i = 2, n = ((len + 15) >> 4) + 1; i <= n; i++) s += nonce + be32(i);
  return new Int32Array(globalThis.require('crypto').AES.encrypt(s, key, { mode: 'ECB' }));
}

/** data XOR the keystream after its first block, as a binary string of data's length */
function xor(data: string, ks: Int32Array): string {
  var u = E.toUint8Array(pad16(data));
  var w = new Int32Array(u.buffer);
  for (var i = 0; i < w.length; i++) w[i] ^= ks[i + 4];
  return E.toString(u).substr(0, data.length);
}

export interface Gcm {
  /** cipher + 16-byte tag */
  seal(nonce: string, aad: string, plain: string): string;
  /** the plaintext, or null when the tag does not match (nothing is decrypted then) */
  open(nonce: string, aad: string, sealed: string): string | null;
}

/** a Gcm: its key and H's nibble tables, with seal and open shared by every Gcm (they read this) */
interface Keyed extends Gcm {
  k: string;
  m: Int32Array;
}

function seal(this: Keyed, nonce: string, aad: string, plain: string): string {
  var ks = keystream(this.k, nonce, plain.length);
  var cipher = xor(plain, ks);
  ghash(this.m, aad, cipher);
  for (var i = 0; i < 4; i++) Y![i] ^= ks[i];
  return cipher + E.toString(Yb);
}

function open(this: Keyed, nonce: string, aad: string, sealed: string): string | null {
  var n = sealed.length - 16;
  if (n < 0) return null;
  var cipher = sealed.substr(0, n);
  var tag = new Int32Array(E.toUint8Array(sealed.substr(n)).buffer);
  var ks = keystream(this.k, nonce, n);
  ghash(this.m, aad, cipher);
  var diff = 0;
  for (var i = 0; i < 4; i++) diff |= Y![i] ^ ks[i] ^ tag[i];
  return diff ? null : xor(cipher, ks);
}

/** AES-128-GCM with a 16-byte key (a binary string) */
export function createGcm(key: string): Gcm {
  if (!R) {
    R = reductionTable();
    Y = new Int32Array(4);
    Yb = new Uint8Array(Y.buffer);
  }
  // per key only an object of four properties and the 512 bytes of tables stay; seal and open
  // are shared functions, so call them as methods (g.seal(…)), not detached
  var g: Keyed = { k: key, m: nibbleTables(key), seal: seal, open: open };
  return g;
}
