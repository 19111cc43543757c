// Modular exponentiation for RSA public-key operations, shaped for the Espruino interpreter.
//
// Numbers are 22-bit limbs in Float64Arrays. A Montgomery product (REDC, R = 2^(22k)) runs column
// by column (product scanning); each column's dot product, Σ a_j·b_(i-j) + Σ m_j·n_(i-j), is ONE
// native E.convolve call: X holds a and m interleaved (X[2j] = a_j, X[2j+1] = m_j), Y holds b and
// n interleaved and reversed with k zero limbs of padding each (Y[2p] = b_(k-1-p), Y[2p+1] =
// n_(k-1-p)), so the offset 2(k-1-i) (mod 4k) lines column i up; the padding makes every term
// outside the column multiply a zero. Products are < 2^44 and a column has ≤ 2k of them, exact in
// doubles while 2k·2^44 + 2^44 < 2^53: k ≤ 255 limbs; keys up to 4096 bits are accepted.
// The n_0 slot of Y is zero (m_i·n_0 is added by hand), so stale m limbs of the previous product
// never count and X needs no clearing. R > 4n, so inputs and outputs stay < 2n with no
// subtraction until the end. Results are written in place: limb j of the output is written when
// no later column reads a_j or b_j any more.
//
// Per key, R² mod n is needed once: v_j = 2^(L+22j) mod n (L = 22k) gives montmul(v_a, v_b) =
// v_(a+b), and R² = v_k; v_q and v_r (k = q·2^s + r) come from shifting a power of two 22 bits at
// a time (each step one quotient-digit estimate), then s squarings and one product give v_k.

const W = 22;
const B = 4194304; // 2^22

/** Limbs and bytes per work() call of a load (its copy, its limbs) or a store (≈ 1.5 ms native each) */
const LOAD_LIMBS = 56;
const STORE_BYTES = 48;
const COPY_BYTES = 160;

/**
 * A load in pieces: each call puts up to LOAD_LIMBS more limbs of the big-endian binary string s
 * into out[off + stride·j] (j = 0 is the least significant), k limbs in all; true when all are in.
 */
function loader(s: string, out: Float64Array, k: number, off: number, stride: number): () => boolean {
  // limb j is bits 22j … 22j+21: four bytes from byte (22j >> 3) counted from the end, shifted
  // (one expression per limb), from a byte copy with zeros in front of the string's start. The
  // copy is made by the first call with charCodeAt from the start (not E.toUint8Array, which gives a
  // string holding UTF-8, e.g. a literal in a script, as its UTF-8 bytes; nor charCodeAt at random
  // places, which is slow in such a string).
  const pad = 3 + Math.max(0, ((W * k + 7) >> 3) - s.length);
  const v = new Uint8Array(pad + s.length);
  const last = v.length - 1;
  let c = 0; // bytes copied
  let j = 0;
  return function () {
    if (c < s.length) {
      // COPY_BYTES per call
      const end = Math.min(s.length, c + COPY_BYTES);
      for (let p = pad + c; c < end; c++, p++) v[p] = s.charCodeAt(c);
      return false;
    }
    const end = Math.min(k, j + LOAD_LIMBS);
    for (let b = W * j, p = off + stride * j; j < end; j++, b += W, p += stride) {
      const i = last - (b >> 3);
      out[p] = ((v[i] | (v[i - 1] << 8) | (v[i - 2] << 16) | (v[i - 3] << 24)) >>> (b & 7)) & 4194303;
    }
    return j >= k;
  };
}

/**
 * A store in pieces: the k limbs at x[off + stride·j] as a big-endian binary string of len bytes
 * (the value must fit), STORE_BYTES per call; each call returns '' until the last returns the string.
 */
function storer(x: Float64Array, k: number, off: number, stride: number, len: number): () => string {
  // byte q (counted from the end) is bits 8q … 8q+7: in limb (8q / 22) and maybe the next
  const u = new Uint8Array(len);
  let q = 0;
  return function () {
    const end = Math.min(len, q + STORE_BYTES);
    for (let i = len - 1 - q; q < end; q++, i--) {
      const j = ((8 * q) / W) | 0;
      const r = 8 * q - W * j;
      const p = off + stride * j;
      u[i] = (x[p] >>> r) | (j + 1 < k ? x[p + stride] << (W - r) : 0);
    }
    return q < len ? '' : E.toString(u);
  };
}

/** x (k limbs at x[off + stride·j], < 2n) reduced below n (n: k limbs, normal order). */
function reduce(x: Float64Array, n: Float64Array, k: number, off: number, stride: number): void {
  for (let j = k - 1; j >= 0; j--) {
    const d = x[off + stride * j] - n[j];
    if (d < 0) return;
    if (d > 0) break;
  }
  let c = 0;
  for (let j = 0; j < k; j++) {
    let v = x[off + stride * j] - n[j] + c;
    c = 0;
    if (v < 0) {
      v += B;
      c = -1;
    }
    x[off + stride * j] = v;
  }
}

/** Bits of a big-endian binary string with no leading zero byte. */
function bitLength(s: string): number {
  let b = s.length * 8 - 8;
  for (let t = s.charCodeAt(0) & 255; t; t >>= 1) b++;
  return b;
}

export interface PowJob {
  /** one slice of the work (≲ 2 ms native); true when finished */
  work: () => boolean;
  /** base^e mod n, big-endian, n's length (after work() returned true) */
  result: () => string;
  /** R² mod n for this n, big-endian, n's length: pass it as r2 next time to skip the setup */
  r2: () => string;
}

/** Columns of Montgomery products per work() call: COLS_K / k (≈ 1.5 ms in the native interpreter) */
const COLS_K = 2600;
/** Limbs per step of the views that shorten a column's dot product */
const G = 16;

/**
 * base^e mod n, in slices. n: big-endian modulus, odd, 64–512 bytes, no leading zero byte;
 * base: big-endian, < n, any length ≤ n's ('' to make R² only); e: odd, ≥ 3, < 2^31; r2: R² mod n as returned by a
 * previous job's r2() for the same n, or '' to compute it first. Throws on a bad n or e.
 */
export function powMod(n: string, e: number, base: string, r2: string): PowJob {
  const nb = n.length;
  if (nb < 64 || nb > 512 || !(n.charCodeAt(0) & 255) || !(n.charCodeAt(nb - 1) & 1)) throw new Error('bad modulus');
  if (!(e >= 3 && e < 2147483648 && e % 2 === 1)) throw new Error('bad exponent');
  const bits = bitLength(n);
  const k = Math.ceil((bits + 2) / W); // R = 2^(22k) > 4n
  const L4 = 4 * k;
  // n's limbs (nl, and Y's n-slots) are loaded by the first work() calls (phases 10, 11), then init()
  const nl = new Float64Array(k);
  let top = k - 1;
  let n0 = 0;
  let np = 0; // -n^-1 mod 2^22
  const X = new Float64Array(2 * k);
  const Y = new Float64Array(L4);
  let S = Y; // the other b operand (the base, or v_r): a copy of Y's n-slots, made by init()
  // views of X that skip the all-zero ends of a column's dot product: column i < k reads
  // a_0..a_i (a prefix), column i ≥ k reads a_(i-k+1)..a_(k-1) (a suffix); G limbs per step
  const pre: Float64Array[] = [];
  const suf: Float64Array[] = [];
  for (let t = 0; t * G < k; t++) {
    pre.push(X.subarray(0, Math.min(2 * k, 2 * G * (t + 1))));
    suf.push(X.subarray(2 * G * t, 2 * k));
  }
  // a load or a store in progress (pieces of ≲ 1.5 ms native)
  let loading: (() => boolean) | null = loader(n, nl, k, 0, 1);
  let storing: (() => string) | null = null;
  function init() {
    Y[2 * k - 1] = 0; // n_0's slot (m_i·n_0 is added by hand)
    S = new Float64Array(Y);
    while (!nl[top]) top--;
    n0 = nl[0];
    let inv = n0; // n0·inv ≡ 1 mod 8; each Newton step doubles the correct bits: 3, 6, 12, 24
    for (let i = 0; i < 3; i++) inv = (inv * ((B + 2 - ((n0 * inv) % B)) % B)) % B;
    np = (B - inv) % B;
  }
  const cols = Math.max(4, Math.floor(COLS_K / k));
  let M: Float64Array | null = null; // base·R, for the inner 1 bits of e (none for 65537)
  let c = 0;

  // the program: a list of products; each: the b buffer (Y: squaring, S or M), done column by column
  const ops: Float64Array[] = [];
  let op = 0;
  let col = 0;
  // 10, 11: n into nl and into Y's n-slots; 0: shifting (R² setup), 1, 5, 4: start the power (base
  // into X, into S, R² into Y), 2: products, 6, 7: the result (reduce, store), 8, 9: R² (reduce,
  // store), 3: done; each phase in work() calls of its own, loads and stores in pieces
  let phase = 10;
  let inSetup = !r2;
  let r2s = r2;
  let out = '';

  // --- setup state: T holds 2^x mod n, normal order, k+1 limbs
  let T: Float64Array | null = null;
  let x = 0;
  let q = 0;
  let r = 0;
  let s = 0;
  const L = W * k;
  if (!r2) {
    // choose s: limb steps ≈ max(q, r) + 2 cost ~1/6 of a product each
    let best = 1e9;
    for (let t = 0; 1 << t <= k; t++) {
      const qq = Math.floor(k / (1 << t));
      const rr = k - qq * (1 << t);
      const cost = (Math.max(qq, rr) + 2) / 6 + t + (rr ? 1 : 0);
      if (cost < best) {
        best = cost;
        s = t;
        q = qq;
        r = rr;
      }
    }
    T = new Float64Array(k + 1);
    x = bits - 1; // 2^(bits-1) < n
    T[Math.floor(x / W)] = 1 << (x % W);
  }

  function load2(v: Float64Array, buf: Float64Array | null) {
    // v (normal order) into X's a-slots and Y's b-slots, or into buf's b-slots
    for (let j = 0; j < k; j++) {
      if (buf) buf[2 * (k - 1 - j)] = v[j];
      else {
        X[2 * j] = v[j];
        Y[2 * (k - 1 - j)] = v[j];
      }
    }
  }

  let qq = 0; // quotient digit between the two halves of a limb step
  let down = false; // in the second half of a limb step
  /** first half of a limb step: T = T·2^b, qq = its quotient digit estimate (T < n, 1 ≤ b ≤ 22) */
  function shiftUp(b: number) {
    const t = T as Float64Array;
    const m = 1 << b;
    let cc = 0;
    for (let j = 0; j <= top; j++) {
      const v = t[j] * m + cc;
      const lo = v % B;
      t[j] = lo;
      cc = (v - lo) / B;
    }
    t[top + 1] = cc;
    // quotient estimate from the top limbs, never above the true quotient
    // (yt ≤ T/B^(top-1), nt ≥ n/B^(top-1), and the margin covers rounding: qq ≤ ⌊T/n⌋, ≥ ⌊T/n⌋ - 2)
    const yt = (t[top + 1] * B + t[top]) * B + t[top - 1];
    const nt = nl[top] * B + nl[top - 1] + (nl[top - 2] + 1) / B;
    qq = Math.floor(yt / nt - 1e-5);
    x += b;
  }

  let neg = 0; // the borrow of T - qq·n so far (< 0 at its end: T went below zero)
  let at = 0; // the next limb of T - qq·n
  /** one pass of the second half: T = T - qq·n, then below n; true when T < n (a pass per work() call) */
  function shiftDown(): boolean {
    const t = T as Float64Array;
    let cc = 0;
    if (qq > 0) {
      // up to 100 limbs per call (a 4096-bit n takes two)
      const end = Math.min(top + 2, at + 100);
      cc = neg;
      for (let j = at; j < end; j++) {
        const v = t[j] - qq * (j <= top ? nl[j] : 0) + cc;
        const lo = v - Math.floor(v / B) * B;
        t[j] = lo;
        cc = (v - lo) / B;
      }
      neg = cc;
      at = end;
      if (end === top + 2) {
        qq = 0;
        at = 0;
      }
      return false;
    }
    // qq never exceeds the quotient; should rounding ever prove that wrong, T < 0: add n back
    if (neg < 0) {
      let c2 = 0;
      for (let j = 0; j <= top + 1; j++) {
        let v = t[j] + (j <= top ? nl[j] : 0) + c2;
        c2 = 0;
        if (v >= B) {
          v -= B;
          c2 = 1;
        }
        t[j] = v;
      }
      neg += c2;
      return false;
    }
    // now 0 ≤ T < a few n: subtract n while T ≥ n
    let ge = true;
    if (!t[top + 1])
      for (let j = top; j >= 0; j--) {
        if (t[j] !== nl[j]) {
          ge = t[j] > nl[j];
          break;
        }
      }
    if (!ge) return true;
    for (let j = 0; j <= top + 1; j++) {
      let v = t[j] - (j <= top ? nl[j] : 0) + cc;
      cc = 0;
      if (v < 0) {
        v += B;
        cc = -1;
      }
      t[j] = v;
    }
    return false;
  }

  function startPower() {
    // Y's b-slots hold R² (phase 4), X holds the base (phase 1)
    ops.splice(0);
    ops.push(Y); // base·R
    let hb = 30;
    while (!((e >> hb) & 1)) hb--;
    for (let i = hb - 1; i >= 0; i--) {
      ops.push(Y);
      if ((e >> i) & 1) {
        if (i === 0) ops.push(S);
        else {
          if (!M) M = new Float64Array(L4);
          ops.push(M);
        }
      }
    }
    op = 0;
    col = 0;
  }

  function products(): boolean {
    const Yb = ops[op];
    let i = col;
    const end = Math.min(i + cols, 2 * k - 1);
    if (i === 0) c = 0;
    for (; i < end && i < k; i++) {
      const t = E.convolve(pre[(i / G) | 0], Yb, 2 * (k - 1 - i)) + c;
      const mi = ((t % B) * np) % B;
      X[2 * i + 1] = mi;
      c = (t + mi * n0) / B;
    }
    for (; i < end; i++) {
      const v = ((i - k + 1) / G) | 0;
      const t = E.convolve(suf[v], Yb, L4 + 2 * (k - 1 - i + G * v)) + c;
      const lo = t % B;
      c = (t - lo) / B;
      const j = i - k;
      X[2 * j] = lo;
      Y[2 * (k - 1 - j)] = lo;
    }
    col = i;
    if (i < 2 * k - 1) return false;
    X[2 * k - 2] = c;
    Y[0] = c;
    if (op === 0 && M) {
      // the first product made base·R: keep it as the multiplier for inner 1 bits
      for (let j = 0; j < k; j++) (M as Float64Array)[2 * (k - 1 - j)] = X[2 * j];
      for (let p = 0; p < k - 1; p++) (M as Float64Array)[2 * p + 1] = nl[k - 1 - p];
    }
    col = 0;
    return ++op >= ops.length;
  }

  function work(): boolean {
    if (loading) {
      if (loading()) loading = null;
      return false;
    }
    if (phase === 0) {
      // limb steps towards v_q and v_r
      const target = L + W * Math.max(q, r);
      let stop = target;
      if (x < L + W * q && L + W * q < stop) stop = L + W * q;
      if (r && x < L + W * r && L + W * r < stop) stop = L + W * r;
      if (!down && x < stop) {
        shiftUp(Math.min(W, stop - x));
        down = true;
        return false;
      }
      if (!shiftDown()) return false;
      down = false;
      if (x === L + W * q) load2(T as Float64Array, null);
      if (r && x === L + W * r) load2(T as Float64Array, S);
      if (x === target) {
        T = null;
        ops.splice(0);
        for (let i = 0; i < s; i++) ops.push(Y);
        if (r) ops.push(S);
        op = 0;
        col = 0;
        phase = 2;
        if (!ops.length) {
          inSetup = false;
          phase = 8;
        }
      }
      return false;
    }
    if (phase === 10) {
      loading = loader(n, Y, k, 2 * k - 1, -2);
      phase = 11;
      return false;
    }
    if (phase === 11) {
      init();
      phase = r2 ? 1 : 0;
      return false;
    }
    if (phase === 1) {
      // X = base (a-slots), S = base (b-slots)
      loading = loader(base, X, k, 0, 2);
      phase = 5;
      return false;
    }
    if (phase === 5) {
      loading = loader(base, S, k, 2 * k - 2, -2);
      phase = 4;
      return false;
    }
    if (phase === 4) {
      loading = loader(r2s, Y, k, 2 * k - 2, -2);
      phase = 12;
      return false;
    }
    if (phase === 12) {
      startPower();
      phase = 2;
      return false;
    }
    if (phase === 2) {
      if (!products()) return false;
      phase = inSetup ? 8 : 6;
      inSetup = false;
      return false;
    }
    if (phase === 6 || phase === 8) {
      reduce(X, nl, k, 0, 2);
      phase++;
      return false;
    }
    if (phase === 7 || phase === 9) {
      if (!storing) storing = storer(X, k, 0, 2, nb);
      const v = storing();
      if (!v) return false;
      storing = null;
      if (phase === 7) {
        out = v;
        phase = 3;
        return true;
      }
      // R² is in X: keep it; done when that was all (no base)
      r2s = v;
      phase = base ? 1 : 3;
      return !base;
    }
    return true;
  }

  return {
    work,
    result: () => out,
    r2: () => r2s,
  };
}
