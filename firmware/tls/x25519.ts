// X25519 (RFC 7748 §5) for the Espruino interpreter: the Montgomery ladder over field25519.ts,
// run in slices (slices.ts) so the UART, the AT engine and the watchdog keep running.
//
// Not constant-time. An interpreter's time depends on the values it handles (numbers kept as int
// or double, garbage collection), and the ladder swaps references (not limbs) on the key's bits.
// That is acceptable here: the scalar is an ephemeral ECDHE key used for one handshake's pair of
// multiplications, timed only from across a cellular link whose jitter is hundreds of
// milliseconds, and every ladder step does the same field operations whatever the bit (the swap
// is two reference exchanges). It would not be acceptable for a long-term key under an attacker
// who can time many multiplications with it.
//
// Memory: the registers (12 elements of 13 doubles, 4 spreads of 26) are made per call and
// dropped when done() runs, so nothing stays allocated between handshakes; nothing is allocated
// inside the ladder.

import { slices } from './slices';
import { N, mulF, mulFF, fill, addF, subF, add, sub, addMulF, unpack, pack } from './field25519';

const A24 = 121665; // (486662 - 2) / 4, RFC 7748 §5
const SQUARINGS_PER_SLICE = 10; // inversion: ≈ 10 × 0.2 ms native per work() call

/** The base point, u = 9 (RFC 7748 §4.1), little-endian. */
export const X25519_BASE = '\x09' + '\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0';

// z^(p-2) = z^(2^255 - 21) by ref10's chain: 254 squarings, 11 multiplications. Each step is
// [dst, src, squarings, multiplier]: dst = src^(2^squarings) · multiplier (registers 0..3, 0 = z;
// multiplier -1: none).
const CHAIN = [
  [1, 0, 1, -1], // z^2
  [2, 1, 2, 0], // z^9
  [1, 2, 0, 1], // z^11
  [2, 1, 1, 2], // z^(2^5 - 1)
  [2, 2, 5, 2], // 2^10 - 1
  [3, 2, 10, 2], // 2^20 - 1
  [3, 3, 20, 3], // 2^40 - 1
  [3, 3, 10, 2], // 2^50 - 1
  [2, 3, 50, 3], // 2^100 - 1
  [2, 2, 100, 2], // 2^200 - 1
  [2, 2, 50, 3], // 2^250 - 1
  [0, 2, 5, 1], // 2^255 - 21
];

/**
 * X25519(k, u) of RFC 7748 §5: k and u are 32-byte binary strings (little-endian); k is clamped
 * here and u's top bit ignored. done(out) gets the 32-byte u-coordinate of k·u: 32 zero bytes when
 * u is of small order (the caller must reject that, RFC 7748 §6.1). One ladder step per slice.
 */
export function x25519(k: string, u: string, done: (out: string) => void): void {
  const el = function () {
    return new Float64Array(N);
  };
  let x2 = el();
  let z2 = el();
  let x3 = el();
  let z3 = el();
  const A = el();
  const B = el();
  const C = el();
  const D = el();
  const AA = el();
  const BB = el();
  const DA = el();
  const CB = el();
  const FA = new Float64Array(2 * N); // spreads (field25519.ts fill)
  const FB = new Float64Array(2 * N);
  const FX = new Float64Array(2 * N); // spread of x1, the same for every step
  const FX2 = new Float64Array(2 * N); // spread of BB; in the inversion, the squaring pair's
  unpack(x3, u);
  fill(FX, x3);
  x2[0] = 1;
  z3[0] = 1;
  let t = 254;
  let swap = 0;
  // inversion state: registers 0..3 of CHAIN, the squaring pair, the chain position
  let inv: Float64Array[];
  let w = A;
  let w2 = B;
  let fw = FB; // spread(w)
  let fw2 = FX2;
  let step = 0;
  let left = -1; // squarings left in the current chain step; -1: step not started
  let out = ''; // the result, packed in a slice of its own
  slices(
    function () {
      let tmp;
      if (t >= 0) {
        // k clamped (RFC 7748 §5): bit 255 clear, bit 254 set, bits 2..0 clear
        const bit = t === 254 ? 1 : t < 3 ? 0 : (k.charCodeAt(t >> 3) >> (t & 7)) & 1;
        t--;
        if (swap !== bit) {
          tmp = x2;
          x2 = x3;
          x3 = tmp;
          tmp = z2;
          z2 = z3;
          z3 = tmp;
        }
        swap = bit;
        addF(A, x2, z2, FA); // A = x2 + z2
        subF(B, x2, z2, FB); // B = x2 - z2
        mulF(AA, A, FA); // AA = A^2
        mulFF(BB, B, FB, FX2); // BB = B^2
        add(C, x3, z3); // C = x3 + z3
        sub(D, x3, z3); // D = x3 - z3
        mulF(DA, D, FA); // DA = D·A
        mulF(CB, C, FB); // CB = C·B
        addF(A, DA, CB, FA);
        mulF(x3, A, FA); // x3 = (DA + CB)^2
        subF(B, DA, CB, FB);
        mulF(C, B, FB);
        mulF(z3, C, FX); // z3 = x1·(DA - CB)^2
        mulF(x2, AA, FX2); // x2 = AA·BB
        sub(D, AA, BB); // E = AA - BB
        addMulF(DA, AA, D, A24, FB); // AA + a24·E
        mulF(z2, D, FB); // z2 = E·(AA + a24·E)
        if (t < 0) {
          if (swap) {
            x2 = x3;
            z2 = z3;
          }
          inv = [z2, C, D, AA];
        }
        return false;
      }
      if (step === CHAIN.length) {
        out = pack(BB); // x2/z2
        return true;
      }
      // z2^(p-2), up to SQUARINGS_PER_SLICE multiplications per call
      for (let s = 0; s < SQUARINGS_PER_SLICE; s++) {
        const c = CHAIN[step];
        if (left < 0) {
          w.set(inv[c[1]]);
          fill(fw, w);
          left = c[2];
        }
        if (left > 0) {
          mulFF(w2, w, fw, fw2);
          tmp = w;
          w = w2;
          w2 = tmp;
          tmp = fw;
          fw = fw2;
          fw2 = tmp;
          left--;
          continue;
        }
        if (c[3] >= 0) {
          fill(FA, inv[c[3]]);
          mulF(inv[c[0]], w, FA);
        } else inv[c[0]].set(w);
        left = -1;
        if (++step === CHAIN.length) {
          fill(FA, inv[0]);
          mulF(BB, x2, FA);
          return false;
        }
      }
      return false;
    },
    function () {
      done(out);
    },
  );
}
