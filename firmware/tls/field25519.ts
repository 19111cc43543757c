// Arithmetic in GF(2^255 - 19) for x25519.ts, shaped for the Espruino interpreter.
//
// An element is N = 13 limbs of 20 bits in a Float64Array: value = Σ a_k·2^(20k), limbs SIGNED
// (carries round to nearest, so a carried limb is within ±2^19 + 6). 13 × 20 bits spans 2^260,
// and 2^260 ≡ 2^5·19 = 608 (mod p) folds the product's upper half back.
//
// The multiplication is where the time goes, and the interpreter's cheapest multiply-add is
// E.convolve (a dot product in C doubles: one call over 13 elements ≈ 4 µs native, against ≈ 3 µs
// for ONE interpreted multiply-add). With f = spread(b) = [b12 … b0, 608·b12 … 608·b0] (26 doubles),
// limb k of a·b mod p,
//   Σ_{i≤k} a_i·b_{k-i} + 608·Σ_{i>k} a_i·b_{k-i+13},
// is ONE call E.convolve(a, f, 12 - k). A spread is made once per operand and reused (the ladder
// multiplies by A twice, by B twice and by x1 every step).
// Exactness: |limb k| ≤ (1 + 12·608)·max|a_i|·max|b_i| = 7297·max|a_i|·max|b_i|, and the ladder
// only multiplies carried elements (≤ 2^19 + 6) or sums/differences of two (≤ 2^20 + 12):
// 7297·(2^20 + 12)^2 < 8.03e15 < 2^53 = 9.007e15, so every partial sum is an exact double.
// The radixes compared (bench/tls-x25519.mjs prints them): 16 × 16 bits (fold 38) and
// 15 × 17 bits (fold 19) are exact with more room to spare but cost one convolve call and one
// carry step per limb more, so they are slower in proportion; 12 × 22 bits would overflow 2^53.
//
// Carry without Math.floor (a function call): h = v + RND - RND rounds v to a multiple of 2^20
// (RND ≈ 1.5·2^72, whose ulp is 2^20), then limb = v - h and carry = h·2^-20, all exact. Any
// multiple of 2^20 near v keeps the value exact, so RND need not be exact: Espruino parses the
// literal 7083549724304468e6 a few ulps off 1.5·2^72, which is harmless here.
// No Math.pow: Espruino's is inexact (2^18 comes out 2^18 - 6e-11).
//
// mulF, mulFF, fill, addMulF, addF, subF, add and sub are unrolled (the limb loop's own cost, ≈ 1.5 µs per iteration, is
// a third of the work). The bundle runs from flash (.bootcde), so the longer code costs flash,
// not RAM. Each is one statement pattern repeated for limb 0 … 12.

export const N = 13; // limbs
const FOLD = 608; // 2^(20·13) mod p = 2^(260 - 255) · 19
const RADIX = 1048576; // 2^20
const INV = 1 / 1048576; // 2^-20
const RND = 1.5 * 4503599627370496 * 1048576; // 1.5·2^72

/** Adds FOLD·c (the carry out of the top limb) to limb 0 and carries into limbs 1 and 2. */
function fold(o: Float64Array, c: number): void {
  let v = o[0] + FOLD * c;
  let h = v + RND - RND;
  o[0] = v - h;
  v = o[1] + h * INV;
  h = v + RND - RND;
  o[1] = v - h;
  o[2] += h * INV;
}

/** o = a·b mod p, carried, where f = spread(b) (see fill). o must not be a. */
export function mulF(o: Float64Array, a: Float64Array, f: Float64Array): void {
  const g = E.convolve;
  const r = RND;
  const n = INV;
  let v, h;
  let c = 0;
  v = g(a, f, 12) + c;
  h = v + r - r;
  o[0] = v - h;
  c = h * n;
  v = g(a, f, 11) + c;
  h = v + r - r;
  o[1] = v - h;
  c = h * n;
  v = g(a, f, 10) + c;
  h = v + r - r;
  o[2] = v - h;
  c = h * n;
  v = g(a, f, 9) + c;
  h = v + r - r;
  o[3] = v - h;
  c = h * n;
  v = g(a, f, 8) + c;
  h = v + r - r;
  o[4] = v - h;
  c = h * n;
  v = g(a, f, 7) + c;
  h = v + r - r;
  o[5] = v - h;
  c = h * n;
  v = g(a, f, 6) + c;
  h = v + r - r;
  o[6] = v - h;
  c = h * n;
  v = g(a, f, 5) + c;
  h = v + r - r;
  o[7] = v - h;
  c = h * n;
  v = g(a, f, 4) + c;
  h = v + r - r;
  o[8] = v - h;
  c = h * n;
  v = g(a, f, 3) + c;
  h = v + r - r;
  o[9] = v - h;
  c = h * n;
  v = g(a, f, 2) + c;
  h = v + r - r;
  o[10] = v - h;
  c = h * n;
  v = g(a, f, 1) + c;
  h = v + r - r;
  o[11] = v - h;
  c = h * n;
  v = g(a, f, 0) + c;
  h = v + r - r;
  o[12] = v - h;
  c = h * n;
  fold(o, c);
}

/** f = spread(b) = [b12 … b0, 608·b12 … 608·b0], the second operand of mulF. */
export function fill(f: Float64Array, b: Float64Array): void {
  let v;
  v = b[0];
  f[12] = v;
  f[25] = FOLD * v;
  v = b[1];
  f[11] = v;
  f[24] = FOLD * v;
  v = b[2];
  f[10] = v;
  f[23] = FOLD * v;
  v = b[3];
  f[9] = v;
  f[22] = FOLD * v;
  v = b[4];
  f[8] = v;
  f[21] = FOLD * v;
  v = b[5];
  f[7] = v;
  f[20] = FOLD * v;
  v = b[6];
  f[6] = v;
  f[19] = FOLD * v;
  v = b[7];
  f[5] = v;
  f[18] = FOLD * v;
  v = b[8];
  f[4] = v;
  f[17] = FOLD * v;
  v = b[9];
  f[3] = v;
  f[16] = FOLD * v;
  v = b[10];
  f[2] = v;
  f[15] = FOLD * v;
  v = b[11];
  f[1] = v;
  f[14] = FOLD * v;
  v = b[12];
  f[0] = v;
  f[13] = FOLD * v;
}

/** mulF, and fo = spread(o) as well (for a product that is multiplied next). o must not be a. */
export function mulFF(o: Float64Array, a: Float64Array, f: Float64Array, fo: Float64Array): void {
  const g = E.convolve;
  const r = RND;
  const n = INV;
  let v, h;
  let c = 0;
  v = g(a, f, 12) + c;
  h = v + r - r;
  c = h * n;
  o[0] = v - h;
  v = g(a, f, 11) + c;
  h = v + r - r;
  c = h * n;
  o[1] = v - h;
  v = g(a, f, 10) + c;
  h = v + r - r;
  c = h * n;
  o[2] = v - h;
  v = g(a, f, 9) + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[3] = v;
  fo[9] = v;
  fo[22] = FOLD * v;
  v = g(a, f, 8) + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[4] = v;
  fo[8] = v;
  fo[21] = FOLD * v;
  v = g(a, f, 7) + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[5] = v;
  fo[7] = v;
  fo[20] = FOLD * v;
  v = g(a, f, 6) + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[6] = v;
  fo[6] = v;
  fo[19] = FOLD * v;
  v = g(a, f, 5) + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[7] = v;
  fo[5] = v;
  fo[18] = FOLD * v;
  v = g(a, f, 4) + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[8] = v;
  fo[4] = v;
  fo[17] = FOLD * v;
  v = g(a, f, 3) + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[9] = v;
  fo[3] = v;
  fo[16] = FOLD * v;
  v = g(a, f, 2) + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[10] = v;
  fo[2] = v;
  fo[15] = FOLD * v;
  v = g(a, f, 1) + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[11] = v;
  fo[1] = v;
  fo[14] = FOLD * v;
  v = g(a, f, 0) + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[12] = v;
  fo[0] = v;
  fo[13] = FOLD * v;
  fold(o, c);
  v = o[0];
  fo[12] = v;
  fo[25] = FOLD * v;
  v = o[1];
  fo[11] = v;
  fo[24] = FOLD * v;
  v = o[2];
  fo[10] = v;
  fo[23] = FOLD * v;
}

/** o = a + m·b, carried (m an integer up to 2^17: 121665), and f = spread(o). */
export function addMulF(o: Float64Array, a: Float64Array, b: Float64Array, m: number, f: Float64Array): void {
  const r = RND;
  const n = INV;
  let v, h;
  let c = 0;
  v = a[0] + m * b[0] + c;
  h = v + r - r;
  c = h * n;
  o[0] = v - h;
  v = a[1] + m * b[1] + c;
  h = v + r - r;
  c = h * n;
  o[1] = v - h;
  v = a[2] + m * b[2] + c;
  h = v + r - r;
  c = h * n;
  o[2] = v - h;
  v = a[3] + m * b[3] + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[3] = v;
  f[9] = v;
  f[22] = FOLD * v;
  v = a[4] + m * b[4] + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[4] = v;
  f[8] = v;
  f[21] = FOLD * v;
  v = a[5] + m * b[5] + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[5] = v;
  f[7] = v;
  f[20] = FOLD * v;
  v = a[6] + m * b[6] + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[6] = v;
  f[6] = v;
  f[19] = FOLD * v;
  v = a[7] + m * b[7] + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[7] = v;
  f[5] = v;
  f[18] = FOLD * v;
  v = a[8] + m * b[8] + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[8] = v;
  f[4] = v;
  f[17] = FOLD * v;
  v = a[9] + m * b[9] + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[9] = v;
  f[3] = v;
  f[16] = FOLD * v;
  v = a[10] + m * b[10] + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[10] = v;
  f[2] = v;
  f[15] = FOLD * v;
  v = a[11] + m * b[11] + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[11] = v;
  f[1] = v;
  f[14] = FOLD * v;
  v = a[12] + m * b[12] + c;
  h = v + r - r;
  c = h * n;
  v -= h;
  o[12] = v;
  f[0] = v;
  f[13] = FOLD * v;
  fold(o, c);
  v = o[0];
  f[12] = v;
  f[25] = FOLD * v;
  v = o[1];
  f[11] = v;
  f[24] = FOLD * v;
  v = o[2];
  f[10] = v;
  f[23] = FOLD * v;
}

/** o = a + b, not carried, and f = spread(o). */
export function addF(o: Float64Array, a: Float64Array, b: Float64Array, f: Float64Array): void {
  let v;
  v = a[0] + b[0];
  o[0] = v;
  f[12] = v;
  f[25] = FOLD * v;
  v = a[1] + b[1];
  o[1] = v;
  f[11] = v;
  f[24] = FOLD * v;
  v = a[2] + b[2];
  o[2] = v;
  f[10] = v;
  f[23] = FOLD * v;
  v = a[3] + b[3];
  o[3] = v;
  f[9] = v;
  f[22] = FOLD * v;
  v = a[4] + b[4];
  o[4] = v;
  f[8] = v;
  f[21] = FOLD * v;
  v = a[5] + b[5];
  o[5] = v;
  f[7] = v;
  f[20] = FOLD * v;
  v = a[6] + b[6];
  o[6] = v;
  f[6] = v;
  f[19] = FOLD * v;
  v = a[7] + b[7];
  o[7] = v;
  f[5] = v;
  f[18] = FOLD * v;
  v = a[8] + b[8];
  o[8] = v;
  f[4] = v;
  f[17] = FOLD * v;
  v = a[9] + b[9];
  o[9] = v;
  f[3] = v;
  f[16] = FOLD * v;
  v = a[10] + b[10];
  o[10] = v;
  f[2] = v;
  f[15] = FOLD * v;
  v = a[11] + b[11];
  o[11] = v;
  f[1] = v;
  f[14] = FOLD * v;
  v = a[12] + b[12];
  o[12] = v;
  f[0] = v;
  f[13] = FOLD * v;
}

/** o = a - b, not carried, and f = spread(o). */
export function subF(o: Float64Array, a: Float64Array, b: Float64Array, f: Float64Array): void {
  let v;
  v = a[0] - b[0];
  o[0] = v;
  f[12] = v;
  f[25] = FOLD * v;
  v = a[1] - b[1];
  o[1] = v;
  f[11] = v;
  f[24] = FOLD * v;
  v = a[2] - b[2];
  o[2] = v;
  f[10] = v;
  f[23] = FOLD * v;
  v = a[3] - b[3];
  o[3] = v;
  f[9] = v;
  f[22] = FOLD * v;
  v = a[4] - b[4];
  o[4] = v;
  f[8] = v;
  f[21] = FOLD * v;
  v = a[5] - b[5];
  o[5] = v;
  f[7] = v;
  f[20] = FOLD * v;
  v = a[6] - b[6];
  o[6] = v;
  f[6] = v;
  f[19] = FOLD * v;
  v = a[7] - b[7];
  o[7] = v;
  f[5] = v;
  f[18] = FOLD * v;
  v = a[8] - b[8];
  o[8] = v;
  f[4] = v;
  f[17] = FOLD * v;
  v = a[9] - b[9];
  o[9] = v;
  f[3] = v;
  f[16] = FOLD * v;
  v = a[10] - b[10];
  o[10] = v;
  f[2] = v;
  f[15] = FOLD * v;
  v = a[11] - b[11];
  o[11] = v;
  f[1] = v;
  f[14] = FOLD * v;
  v = a[12] - b[12];
  o[12] = v;
  f[0] = v;
  f[13] = FOLD * v;
}

/** o = a + b, not carried. */
export function add(o: Float64Array, a: Float64Array, b: Float64Array): void {
  o[0] = a[0] + b[0];
  o[1] = a[1] + b[1];
  o[2] = a[2] + b[2];
  o[3] = a[3] + b[3];
  o[4] = a[4] + b[4];
  o[5] = a[5] + b[5];
  o[6] = a[6] + b[6];
  o[7] = a[7] + b[7];
  o[8] = a[8] + b[8];
  o[9] = a[9] + b[9];
  o[10] = a[10] + b[10];
  o[11] = a[11] + b[11];
  o[12] = a[12] + b[12];
}

/** o = a - b, not carried. */
export function sub(o: Float64Array, a: Float64Array, b: Float64Array): void {
  o[0] = a[0] - b[0];
  o[1] = a[1] - b[1];
  o[2] = a[2] - b[2];
  o[3] = a[3] - b[3];
  o[4] = a[4] - b[4];
  o[5] = a[5] - b[5];
  o[6] = a[6] - b[6];
  o[7] = a[7] - b[7];
  o[8] = a[8] - b[8];
  o[9] = a[9] - b[9];
  o[10] = a[10] - b[10];
  o[11] = a[11] - b[11];
  o[12] = a[12] - b[12];
}

/** Limbs from 32 little-endian bytes, bit 255 ignored (RFC 7748 §5 masks it). Limbs in [0, 2^20). */
export function unpack(o: Float64Array, s: string): void {
  let acc = 0;
  let m = 1; // 2^n
  let n = 0;
  let j = 0;
  for (let i = 0; i < N; i++) {
    while (n < 20 && j < 32) {
      acc += (s.charCodeAt(j) & (j === 31 ? 127 : 255)) * m;
      m *= 256;
      n += 8;
      j++;
    }
    const l = acc % RADIX;
    o[i] = l;
    acc = (acc - l) * INV;
    m *= INV;
    n -= 20;
  }
}

/** Carries with floor, three times round: limbs in [0, 2^20), the top carry folded back. */
function norm(o: Float64Array): void {
  for (let r = 0; r < 3; r++) {
    let c = 0;
    for (let i = 0; i < N; i++) {
      const v = o[i] + c;
      c = Math.floor(v * INV);
      o[i] = v - c * RADIX;
    }
    o[0] += FOLD * c;
  }
}

/** The canonical value (0 ≤ x < p) as 32 little-endian bytes; o is left normalised. */
export function pack(o: Float64Array): string {
  const top = 32768; // limb 12 holds bits 240..259: 2^15 is bit 255
  norm(o);
  for (let r = 0; r < 2; r++) {
    const hi = Math.floor(o[N - 1] / top); // x = lo + 2^255·hi ≡ lo + 19·hi
    o[N - 1] -= hi * top;
    o[0] += 19 * hi;
    norm(o);
  }
  // now 0 ≤ x < 2^255; x ≥ p only when limbs 1..12 are all ones and limb 0 ≥ 2^20 - 19
  let ge = o[0] >= RADIX - 19 && o[N - 1] === top - 1;
  for (let i = 1; i < N - 1; i++) if (o[i] !== RADIX - 1) ge = false;
  if (ge) {
    o[0] -= RADIX - 19;
    for (let i = 1; i < N; i++) o[i] = 0;
  }
  let out = '';
  let acc = 0;
  let m = 1; // 2^n
  let n = 0;
  for (let i = 0; i < N; i++) {
    acc += o[i] * m;
    m *= RADIX;
    n += 20;
    while (n >= 8 && out.length < 32) {
      const b = acc % 256;
      out += String.fromCharCode(b);
      acc = (acc - b) / 256;
      m /= 256;
      n -= 8;
    }
  }
  return out;
}
