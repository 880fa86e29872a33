// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Per-channel activation units (CONTRACT.md section 4) and the standalone thresholding layer.
// Every activation maps (channel fold nf, lane pe, integer a) to the integer output value.
#ifndef PYNQ_BNN_ACTIVATIONS_HPP
#define PYNQ_BNN_ACTIVATIONS_HPP

#include "bnn/common.hpp"

namespace bnn {

// Multi-threshold: out = OUT_BIAS + sum_k [ (neg ? -a : a) >= thr[pe][nf][k] ], thresholds
// ascending. BN + sign folds into NT = 1; FracBNN 2-bit codes use NT = 3; a k-bit requantizer
// 2^k - 1 thresholds. Hardware: NT comparators per PE lane, thresholds in LUTRAM/BRAM.
template <unsigned NF, unsigned PE, unsigned NT, typename TThr, int OUT_BIAS = 0>
struct Thresholds {
  TThr thr[PE][NF][NT];
  unsigned char neg[PE][NF];

  long long activate(unsigned nf, unsigned pe, long long a) const {
#pragma HLS INLINE
    const long long v = neg[pe][nf] ? -a : a;
    long long count = OUT_BIAS;
    for (unsigned k = 0; k < NT; k++) {
#pragma HLS UNROLL
      count += (v >= (long long)thr[pe][nf][k]) ? 1 : 0;
    }
    return count;
  }
};

// Raw accumulator output (final FC feeding label select, int8-weight layers, residual sums).
struct PassThrough {
  long long activate(unsigned, unsigned, long long a) const {
#pragma HLS INLINE
    return a;
  }
};

// Lookup table for non-monotone per-channel maps: out = table[pe][nf][a - IN_MIN], a clamped to
// the table range (the layer provides the full range of its input).
template <unsigned NF, unsigned PE, int IN_MIN, unsigned ENTRIES, typename TOut>
struct Lut {
  TOut table[PE][NF][ENTRIES];

  long long activate(unsigned nf, unsigned pe, long long a) const {
#pragma HLS INLINE
    long long idx = a - IN_MIN;
    if (idx < 0) idx = 0;
    if (idx >= (long long)ENTRIES) idx = ENTRIES - 1;
    return (long long)table[pe][nf][idx];
  }
};

// Standalone thresholding: PIXELS x CH elements per image, PE lanes per word in and out.
// Cycles per image: PIXELS * CH / PE.
template <unsigned CH, unsigned PE, unsigned PIXELS, ElemKind IN_KIND, unsigned IN_BITS,
          unsigned OUT_BITS, typename Act>
void threshold_stream(hls::stream<ap_uint<PE * IN_BITS> >& in,
                      hls::stream<ap_uint<PE * OUT_BITS> >& out, const Act& act, unsigned reps) {
  static_assert(CH % PE == 0, "threshold_stream: CH must be a multiple of PE");
  constexpr unsigned NF = CH / PE;
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned i = 0; i < PIXELS * NF; i++) {
#pragma HLS PIPELINE II = 1
      const unsigned nf = i % NF;
      const ap_uint<PE * IN_BITS> x = in.read();
      ap_uint<PE * OUT_BITS> y = 0;
      for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
        const long long v = Decode<IN_KIND, IN_BITS>::value(lane<IN_BITS>(x, pe));
        set_lane<OUT_BITS>(y, pe, act.activate(nf, pe, v));
      }
      out.write(y);
    }
  }
}

}  // namespace bnn

#endif
