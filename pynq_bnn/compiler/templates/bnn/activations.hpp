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

// Binary-search multi-threshold (from 16 thresholds on, see cost.threshold_unit): the same
// function as Thresholds with thresholds padded to 2^LOG - 1 ascending entries (pad values are
// never reached). Stage s = LOG-1..0 probes entry pos + 2^s - 1 and adds 2^s when passed, so
// pos ends as the number of thresholds <= v. Hardware: LOG pipelined comparators, stage s
// reading its own table of 2^s thresholds per channel (BRAM/LUTRAM), not 2^LOG - 1 comparators.
template <unsigned NF, unsigned PE, unsigned LOG, typename TThr, int OUT_BIAS = 0>
struct ThresholdSearch {
  TThr thr[PE][NF][(1u << LOG) - 1];
  unsigned char neg[PE][NF];

  long long activate(unsigned nf, unsigned pe, long long a) const {
#pragma HLS INLINE
    const long long v = neg[pe][nf] ? -a : a;
    unsigned pos = 0;
    for (int s = (int)LOG - 1; s >= 0; s--) {
#pragma HLS UNROLL
      if (v >= (long long)thr[pe][nf][pos + (1u << s) - 1]) pos += 1u << s;
    }
    return OUT_BIAS + (long long)pos;
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

// Piecewise-affine requantizer (pynq_bnn/compiler/hw/affine.py): piece p = number of knees
// k = 1..NP-1 with a >= knee[k] (slot 0 unused), out = clamp((mul[p] * a + add[p]) >> SHIFT,
// OUT_MIN, OUT_MAX); >> on a negative value is the arithmetic shift, i.e. floor division. An
// int8 BN requantizer is one piece, RPReLU two. Hardware: NP-1 comparators, one multiplier
// (DSP48), an adder and a clamp per PE lane instead of 2^k - 1 threshold comparators.
template <unsigned NF, unsigned PE, unsigned NP, unsigned SHIFT, int OUT_MIN, int OUT_MAX,
          typename TMul, typename TAdd, typename TKnee>
struct Affine {
  TMul mul[PE][NF][NP];
  TAdd add[PE][NF][NP];
  TKnee knee[PE][NF][NP];

  long long activate(unsigned nf, unsigned pe, long long a) const {
#pragma HLS INLINE
    unsigned p = 0;
    for (unsigned k = 1; k < NP; k++) {
#pragma HLS UNROLL
      p += (a >= (long long)knee[pe][nf][k]) ? 1 : 0;
    }
    const long long v = ((long long)mul[pe][nf][p] * a + (long long)add[pe][nf][p]) >> SHIFT;
    return v < OUT_MIN ? (long long)OUT_MIN : (v > OUT_MAX ? (long long)OUT_MAX : v);
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

// Per-channel activation with a channel map (RepConv beta^2 tiling, channel duplication): per
// pixel the CH_IN inputs are buffered, then output channel c = nf*OUT_PE + pe gets
// act(nf, pe, x[src[c]]). Cycles per pixel: CH_IN/IN_PE (read) + CH_OUT/OUT_PE (write).
template <unsigned CH_IN, unsigned IN_PE, unsigned CH_OUT, unsigned OUT_PE, unsigned PIXELS,
          ElemKind IN_KIND, unsigned IN_BITS, unsigned OUT_BITS, typename TSrc, typename Act>
void channel_map_activate(hls::stream<ap_uint<IN_PE * IN_BITS> >& in,
                          hls::stream<ap_uint<OUT_PE * OUT_BITS> >& out, const TSrc src[CH_OUT],
                          const Act& act, unsigned reps) {
  static_assert(CH_IN % IN_PE == 0 && CH_OUT % OUT_PE == 0, "channel_map_activate: bad folding");
  // One pixel's decoded inputs (IN_BITS + 1 signed bits hold every kind), in registers: each
  // output cycle reads OUT_PE entries at data-dependent (channel map) positions.
  ap_int<IN_BITS + 1> pixel[CH_IN];
#pragma HLS ARRAY_PARTITION variable = pixel complete
  for (unsigned r = 0; r < reps * PIXELS; r++) {
    for (unsigned i = 0; i < CH_IN / IN_PE; i++) {
#pragma HLS PIPELINE II = 1
      const ap_uint<IN_PE * IN_BITS> x = in.read();
      for (unsigned pe = 0; pe < IN_PE; pe++) {
#pragma HLS UNROLL
        pixel[i * IN_PE + pe] = Decode<IN_KIND, IN_BITS>::value(lane<IN_BITS>(x, pe));
      }
    }
    for (unsigned nf = 0; nf < CH_OUT / OUT_PE; nf++) {
#pragma HLS PIPELINE II = 1
      ap_uint<OUT_PE * OUT_BITS> y = 0;
      for (unsigned pe = 0; pe < OUT_PE; pe++) {
#pragma HLS UNROLL
        set_lane<OUT_BITS>(y, pe,
                           act.activate(nf, pe, (long long)pixel[src[nf * OUT_PE + pe]].to_int64()));
      }
      out.write(y);
    }
  }
}

}  // namespace bnn

#endif
