// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// FracBNN fractional MVAU (Zhang et al., FPGA 2021). Input lanes carry PLANES bits (FRAC2: bit 1
// = MSB plane s_M, bit 0 = LSB plane s_L; BIPOLAR: bit 0) plus, when HAS_VALID, a tap-valid bit
// on top (0 on zero-padded taps, which then contribute nothing):
//   m = sum_i valid_i * w_i * s_M,i      l = sum_i valid_i * w_i * s_L,i      (XNOR-popcounts)
//   acc = 2*m + ([m >= gate[pe][nf]] ? l : 0)     (FRAC2, in units of 1/3)     acc = m (BIPOLAR)
// then act (Thresholds or PassThrough). Both planes are computed in parallel, so cycles per
// image = PIXELS * (MH/PE) * (MW/SIMD), as a binary MVAU; the gate is one comparator per PE.
#ifndef PYNQ_BNN_FRAC_MVAU_HPP
#define PYNQ_BNN_FRAC_MVAU_HPP

#include "bnn/activations.hpp"
#include "bnn/common.hpp"

namespace bnn {

// Add a valid bit (1) above every lane: the padded window then inserts all-zero lanes.
template <unsigned LANES, unsigned BITS, unsigned WORDS>
void add_valid(hls::stream<ap_uint<LANES * BITS> >& in,
               hls::stream<ap_uint<LANES * (BITS + 1)> >& out, unsigned reps) {
  for (unsigned i = 0; i < reps * WORDS; i++) {
#pragma HLS PIPELINE II = 1
    const ap_uint<LANES * BITS> x = in.read();
    ap_uint<LANES * (BITS + 1)> y = 0;
    for (unsigned l = 0; l < LANES; l++) {
#pragma HLS UNROLL
      y.range(l * (BITS + 1) + BITS - 1, l * (BITS + 1)) = lane<BITS>(x, l);
      y[l * (BITS + 1) + BITS] = 1;
    }
    out.write(y);
  }
}

// The bit planes of one input word: plane[k] lane s = bit k of lane s (k < PLANES, k = PLANES
// is the valid bit when HAS_VALID, else all ones). Split once per word when it is read, so the
// NF output folds reuse it (wiring in hardware; one pass over the word in csim).
template <unsigned SIMD, unsigned PLANES, unsigned HAS_VALID>
struct Planes {
  ap_uint<SIMD> bits[PLANES + 1];
};

template <unsigned SIMD, unsigned PLANES, unsigned HAS_VALID>
inline Planes<SIMD, PLANES, HAS_VALID> split_planes(
    const ap_uint<SIMD * (PLANES + HAS_VALID)>& x) {
#pragma HLS INLINE
  constexpr unsigned LB = PLANES + HAS_VALID;
  const Lanes<LB, SIMD * LB> lanes(x);
  Planes<SIMD, PLANES, HAS_VALID> p;
  for (unsigned k = 0; k <= PLANES; k++) p.bits[k] = 0;
  for (unsigned s = 0; s < SIMD; s++) {
#pragma HLS UNROLL
    const ap_uint<LB> v = lanes[s];
    for (unsigned k = 0; k < PLANES; k++) p.bits[k][s] = v[k];
    p.bits[PLANES][s] = HAS_VALID ? bool(v[LB - 1]) : true;
  }
  return p;
}

// Signed dot product of SIMD +-1 weights with one bit plane, counting only valid taps.
template <unsigned SIMD>
inline long long plane_dot(const ap_uint<SIMD>& w, const ap_uint<SIMD>& plane,
                           const ap_uint<SIMD>& valid) {
#pragma HLS INLINE
  const unsigned agree = popcount<SIMD>(~(w ^ plane) & valid);
  const unsigned taps = popcount<SIMD>(valid);
  return 2 * (long long)agree - (long long)taps;
}

#ifndef __SYNTHESIS__
// csim only: plane_dot on 64-bit chunks of the weight tile and of the buffered planes (bits of
// the last chunk above SIMD are 0 in the valid plane, so they never count).
template <unsigned SIMD, class Weights>
inline long long plane_dot_chunks(const Weights& weights, unsigned pe, unsigned tile,
                                  const Chunks<SIMD>& plane, const Chunks<SIMD>& valid) {
  long long agree = 0, taps = 0;
  for (unsigned i = 0; i < Chunks<SIMD>::N; i++) {
    agree += __builtin_popcountll(~(weights.words[pe][tile][i] ^ plane.c[i]) & valid.c[i]);
    taps += __builtin_popcountll(valid.c[i]);
  }
  return 2 * agree - taps;
}
#endif

template <unsigned MW, unsigned MH, unsigned SIMD, unsigned PE, unsigned PIXELS, unsigned PLANES,
          unsigned HAS_VALID, typename TAcc, unsigned OUT_BITS, typename TGate, typename Act>
void frac_mvau(hls::stream<ap_uint<SIMD * (PLANES + HAS_VALID)> >& in,
               hls::stream<ap_uint<PE * OUT_BITS> >& out,
               const PackedWeights<PE, (MH / PE) * (MW / SIMD), SIMD>& weights,
               const TGate gate[PE][MH / PE], const Act& act, unsigned reps) {
  static_assert(PLANES == 1 || PLANES == 2, "frac_mvau: PLANES is 1 (BIPOLAR) or 2 (FRAC2)");
  static_assert(MW % SIMD == 0 && MH % PE == 0, "frac_mvau: folding must divide MW and MH");
  constexpr unsigned LB = PLANES + HAS_VALID;
  constexpr unsigned SF = MW / SIMD;
  constexpr unsigned NF = MH / PE;
  Planes<SIMD, PLANES, HAS_VALID> vec[SF];
#ifndef __SYNTHESIS__
  Chunks<SIMD> vec_chunks[SF][PLANES + 1];  // csim: the same planes as 64-bit chunks
#endif
  TAcc acc_m[PE], acc_l[PE];
#pragma HLS ARRAY_PARTITION variable = acc_m complete
#pragma HLS ARRAY_PARTITION variable = acc_l complete
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned p = 0; p < PIXELS; p++) {
      for (unsigned i = 0; i < NF * SF; i++) {
#pragma HLS PIPELINE II = 1
        const unsigned nf = i / SF;
        const unsigned sf = i % SF;
        if (nf == 0) {
          vec[sf] = split_planes<SIMD, PLANES, HAS_VALID>(in.read());
#ifndef __SYNTHESIS__
          for (unsigned k = 0; k <= PLANES; k++) vec_chunks[sf][k] = Chunks<SIMD>(vec[sf].bits[k]);
#endif
        }
        for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
#ifdef __SYNTHESIS__
          const Planes<SIMD, PLANES, HAS_VALID>& x = vec[sf];
          const ap_uint<SIMD> w = weights.get(pe, i);
          const ap_uint<SIMD>& valid = x.bits[PLANES];
          const TAcc m = plane_dot<SIMD>(w, x.bits[PLANES - 1], valid);
          const TAcc l = PLANES == 2 ? TAcc(plane_dot<SIMD>(w, x.bits[0], valid)) : TAcc(0);
#else
          const Chunks<SIMD>* c = vec_chunks[sf];
          const TAcc m = plane_dot_chunks<SIMD>(weights, pe, i, c[PLANES - 1], c[PLANES]);
          const TAcc l = PLANES == 2 ? TAcc(plane_dot_chunks<SIMD>(weights, pe, i, c[0], c[PLANES]))
                                     : TAcc(0);
#endif
          acc_m[pe] = (sf == 0 ? TAcc(0) : acc_m[pe]) + m;
          acc_l[pe] = (sf == 0 ? TAcc(0) : acc_l[pe]) + l;
        }
        if (sf == SF - 1) {
          ap_uint<PE * OUT_BITS> y = 0;
          for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
            const long long m = (long long)acc_m[pe].to_int64();
            long long a = m;
            if (PLANES == 2) {
              const bool open = m >= (long long)gate[pe][nf];
              a = 2 * m + (open ? (long long)acc_l[pe].to_int64() : 0);
            }
            set_lane<OUT_BITS>(y, pe, act.activate(nf, pe, a));
          }
          out.write(y);
        }
      }
    }
  }
}

}  // namespace bnn

#endif
