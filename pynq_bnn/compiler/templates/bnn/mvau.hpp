// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Matrix-Vector-Activation Unit (FINN vocabulary): y = act(W x) for PIXELS input vectors of MW
// elements per image, W of shape (MH, MW). Folding: PE output channels and SIMD input elements
// per cycle; NF = MH/PE, SF = MW/SIMD; cycles per image = PIXELS * NF * SF.
//
// The input vector (SF words) is read once per pixel, during the first output fold, and buffered
// for the NF - 1 others. Weights: PackedWeights<PE, NF*SF, SIMD*W_BITS>, tile nf*SF+sf.
// Accumulation is the exact integer dot product of decoded values (Dot in common.hpp): XNOR-
// popcount for binary x binary, add/subtract for binary weights on integer inputs, MAC otherwise.
#ifndef PYNQ_BNN_MVAU_HPP
#define PYNQ_BNN_MVAU_HPP

#include "bnn/activations.hpp"
#include "bnn/common.hpp"

namespace bnn {

template <unsigned MW, unsigned MH, unsigned SIMD, unsigned PE, unsigned PIXELS,
          ElemKind IN_KIND, unsigned IN_BITS, ElemKind W_KIND, unsigned W_BITS, typename TAcc,
          unsigned OUT_BITS, typename Act>
void mvau(hls::stream<ap_uint<SIMD * IN_BITS> >& in, hls::stream<ap_uint<PE * OUT_BITS> >& out,
          const PackedWeights<PE, (MH / PE) * (MW / SIMD), SIMD * W_BITS>& weights,
          const Act& act, unsigned reps) {
  static_assert(MW % SIMD == 0, "mvau: MW must be a multiple of SIMD");
  static_assert(MH % PE == 0, "mvau: MH must be a multiple of PE");
  constexpr unsigned SF = MW / SIMD;
  constexpr unsigned NF = MH / PE;
  // weights: partitioned (PE banks, 64-bit chunks) where they are defined, in bnn_top.
  ap_uint<SIMD * IN_BITS> vec[SF];
#ifndef __SYNTHESIS__
  Chunks<SIMD * IN_BITS> vec_chunks[SF];  // csim: the buffered words as 64-bit chunks
#endif
  TAcc acc[PE];
#pragma HLS ARRAY_PARTITION variable = acc complete
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned p = 0; p < PIXELS; p++) {
      for (unsigned i = 0; i < NF * SF; i++) {
#pragma HLS PIPELINE II = 1
        const unsigned nf = i / SF;
        const unsigned sf = i % SF;
        ap_uint<SIMD * IN_BITS> x;
        if (nf == 0) {
          x = in.read();
          vec[sf] = x;
#ifndef __SYNTHESIS__
          vec_chunks[sf] = Chunks<SIMD * IN_BITS>(x);
#endif
        } else {
          x = vec[sf];
        }
        for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
          const TAcc prev = (sf == 0) ? TAcc(0) : acc[pe];
#ifdef __SYNTHESIS__
          acc[pe] = prev + TAcc(Dot<SIMD, IN_KIND, IN_BITS, W_KIND, W_BITS>::compute(
                               weights.get(pe, i), x));
#else
          acc[pe] = prev + TAcc(CsimDot<SIMD, IN_KIND, IN_BITS, W_KIND, W_BITS>::compute(
                               weights, pe, i, x, vec_chunks[sf]));
#endif
        }
        if (sf == SF - 1) {
          ap_uint<PE * OUT_BITS> y = 0;
          for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
            set_lane<OUT_BITS>(y, pe, act.activate(nf, pe, (long long)acc[pe].to_int64()));
          }
          out.write(y);
        }
      }
    }
  }
}

}  // namespace bnn

#endif
