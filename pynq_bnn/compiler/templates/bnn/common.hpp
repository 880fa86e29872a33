// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Common definitions of the pynq_bnn streaming library: element kinds, lane access, popcount,
// and the integer dot product of one SIMD word (see CONTRACT.md, section 1 and 5).
#ifndef PYNQ_BNN_COMMON_HPP
#define PYNQ_BNN_COMMON_HPP

// Words wider than 1024 bits need AP_INT_MAX_W (4096) defined BEFORE the first include of
// ap_int.h: the generated bnn_top.hpp does it on its first lines (a definition here would come
// too late and be ignored by Vitis).
#include <ap_int.h>
#include <hls_stream.h>

namespace bnn {

// How the bits of one lane are read as an integer.
//   BIPOLAR: 1 bit, 1 -> +1, 0 -> -1 (XNOR-popcount convention)
//   UINT / INT: plain unsigned / two's complement integers
//   FRAC2: FracBNN 2-bit code; decoded by the FracMVAU as two BIPOLAR planes, never directly
enum ElemKind { BIPOLAR = 0, UINT = 1, INT = 2, FRAC2 = 3 };

// Decode one lane of BITS bits to its integer value.
template <ElemKind KIND, unsigned BITS>
struct Decode {
  static long long value(const ap_uint<BITS>& raw) { return (long long)raw.to_uint64(); }
};
template <unsigned BITS>
struct Decode<BIPOLAR, BITS> {
  static long long value(const ap_uint<BITS>& raw) { return raw[0] ? 1 : -1; }
};
template <unsigned BITS>
struct Decode<INT, BITS> {
  static long long value(const ap_uint<BITS>& raw) {
    ap_int<BITS> s = raw;
    return (long long)s.to_int64();
  }
};

// Lane i (BITS wide) of a packed word, LSB-first.
template <unsigned BITS, int W>
inline ap_uint<BITS> lane(const ap_uint<W>& word, unsigned i) {
#pragma HLS INLINE
  return word.range((i + 1) * BITS - 1, i * BITS);
}

// Write the low BITS bits of value into lane i of word.
template <unsigned BITS, int W>
inline void set_lane(ap_uint<W>& word, unsigned i, long long value) {
#pragma HLS INLINE
  word.range((i + 1) * BITS - 1, i * BITS) = ap_uint<BITS>(value);
}

// Number of set bits. csim uses the host popcount on 64-bit chunks (speed); synthesis an
// unrolled adder tree.
template <unsigned W>
inline unsigned popcount(const ap_uint<W>& x) {
#pragma HLS INLINE
#ifdef __SYNTHESIS__
  unsigned count = 0;
  for (unsigned i = 0; i < W; i++) {
#pragma HLS UNROLL
    count += x[i];
  }
  return count;
#else
  unsigned count = 0;
  for (unsigned lo = 0; lo < W; lo += 64) {
    const unsigned hi = (lo + 64 < W ? lo + 64 : W) - 1;
    count += __builtin_popcountll(x.range(hi, lo).to_uint64());
  }
  return count;
#endif
}

// Constant weight memory of an MVAU: PE banks of TILES words of W bits, stored as plain 64-bit
// chunks (chunk c = bits [64c, 64c+63]) so large weight sets compile fast in csim and map to
// ROM in synthesis (banks partitioned by PE).
template <unsigned PE, unsigned TILES, unsigned W>
struct PackedWeights {
  static constexpr unsigned CHUNKS = (W + 63) / 64;
  unsigned long long words[PE][TILES][CHUNKS];

  ap_uint<W> get(unsigned pe, unsigned tile) const {
#pragma HLS INLINE
    ap_uint<W> word = 0;
    for (unsigned c = 0; c < CHUNKS; c++) {
#pragma HLS UNROLL
      const unsigned hi = (64 * c + 63 < W) ? 64 * c + 63 : W - 1;
      word.range(hi, 64 * c) = words[pe][tile][c];
    }
    return word;
  }
};

#ifndef __SYNTHESIS__
// csim only: a packed word as 64-bit chunks, split once when the word is read (part selects of a
// wide ap_uint shift the whole word, which made wide binary MVAUs the slowest part of csim).
template <unsigned W>
struct Chunks {
  static constexpr unsigned N = (W + 63) / 64;
  unsigned long long c[N];
  Chunks() {}
  explicit Chunks(const ap_uint<W>& w) {
    for (unsigned i = 0; i < N; i++) {
      const unsigned hi = (64 * i + 63 < W) ? 64 * i + 63 : W - 1;
      c[i] = w.range(hi, 64 * i).to_uint64();
    }
  }
};

#endif

// Lane reader of a packed word. Synthesis: part selects (wiring). csim: reads the lanes from the
// word's Chunks (a lane never extends past the word, so a straddling lane's next chunk exists).
template <unsigned BITS, int W>
struct Lanes {
#ifdef __SYNTHESIS__
  const ap_uint<W>& word;
  explicit Lanes(const ap_uint<W>& w) : word(w) {}
  ap_uint<BITS> operator[](unsigned i) const {
#pragma HLS INLINE
    return lane<BITS>(word, i);
  }
#else
  static_assert(BITS <= 64, "Lanes: lanes wider than 64 bits");
  const Chunks<W> chunks;
  explicit Lanes(const ap_uint<W>& w) : chunks(w) {}
  ap_uint<BITS> operator[](unsigned i) const {
    const unsigned lo = i * BITS, c = lo / 64, off = lo % 64;
    unsigned long long v = chunks.c[c] >> off;
    if (off + BITS > 64) v |= chunks.c[c + 1] << (64 - off);
    return ap_uint<BITS>(BITS == 64 ? v : v & ((1ULL << (BITS % 64)) - 1));
  }
#endif
};

// Integer dot product of SIMD weight lanes with SIMD input lanes (decoded values).
template <unsigned SIMD, ElemKind IN_KIND, unsigned IN_BITS, ElemKind W_KIND, unsigned W_BITS>
struct Dot {
  static long long compute(const ap_uint<SIMD * W_BITS>& w, const ap_uint<SIMD * IN_BITS>& x) {
#pragma HLS INLINE
    const Lanes<W_BITS, SIMD * W_BITS> wl(w);
    const Lanes<IN_BITS, SIMD * IN_BITS> xl(x);
    long long sum = 0;
    for (unsigned s = 0; s < SIMD; s++) {
#pragma HLS UNROLL
      const long long wv = Decode<W_KIND, W_BITS>::value(wl[s]);
      const long long xv = Decode<IN_KIND, IN_BITS>::value(xl[s]);
      sum += wv * xv;
    }
    return sum;
  }
};

// BIPOLAR x BIPOLAR: XNOR-popcount, acc = 2 * popcount(xnor) - SIMD.
template <unsigned SIMD>
struct Dot<SIMD, BIPOLAR, 1, BIPOLAR, 1> {
  static long long compute(const ap_uint<SIMD>& w, const ap_uint<SIMD>& x) {
#pragma HLS INLINE
    const ap_uint<SIMD> agree = ~(w ^ x);
    return 2 * (long long)popcount<SIMD>(agree) - (long long)SIMD;
  }
};

#ifndef __SYNTHESIS__
// csim only: the dot product of weight tile (pe, tile) with an input word, from the word's
// chunks where a faster exact form exists (BIPOLAR x BIPOLAR: XNOR-popcount per chunk), else Dot.
template <unsigned SIMD, ElemKind IN_KIND, unsigned IN_BITS, ElemKind W_KIND, unsigned W_BITS>
struct CsimDot {
  template <class Weights>
  static long long compute(const Weights& weights, unsigned pe, unsigned tile,
                           const ap_uint<SIMD * IN_BITS>& x, const Chunks<SIMD * IN_BITS>&) {
    return Dot<SIMD, IN_KIND, IN_BITS, W_KIND, W_BITS>::compute(weights.get(pe, tile), x);
  }
};

template <unsigned SIMD>
struct CsimDot<SIMD, BIPOLAR, 1, BIPOLAR, 1> {
  template <class Weights>
  static long long compute(const Weights& weights, unsigned pe, unsigned tile,
                           const ap_uint<SIMD>&, const Chunks<SIMD>& x) {
    long long agree = 0;
    for (unsigned i = 0; i < Chunks<SIMD>::N; i++) {
      const unsigned bits = (64 * i + 64 <= SIMD) ? 64 : SIMD - 64 * i;
      const unsigned long long mask = bits == 64 ? ~0ULL : ((1ULL << bits) - 1);
      agree += __builtin_popcountll(~(weights.words[pe][tile][i] ^ x.c[i]) & mask);
    }
    return 2 * agree - (long long)SIMD;
  }
};
#endif

// BIPOLAR weights x integer inputs: add or subtract each input (no multiplier).
template <unsigned SIMD, ElemKind IN_KIND, unsigned IN_BITS>
struct Dot<SIMD, IN_KIND, IN_BITS, BIPOLAR, 1> {
  static long long compute(const ap_uint<SIMD>& w, const ap_uint<SIMD * IN_BITS>& x) {
#pragma HLS INLINE
    const Lanes<1, SIMD> wl(w);
    const Lanes<IN_BITS, SIMD * IN_BITS> xl(x);
    long long sum = 0;
    for (unsigned s = 0; s < SIMD; s++) {
#pragma HLS UNROLL
      const long long xv = Decode<IN_KIND, IN_BITS>::value(xl[s]);
      sum += wl[s] ? xv : -xv;
    }
    return sum;
  }
};

}  // namespace bnn

#endif
