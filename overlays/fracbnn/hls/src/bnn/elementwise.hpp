// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Residual add of two integer streams on a common power-of-two grid (FracBNN shortcut):
//   out = sat_OUT((a << SHIFT_A) + (b << SHIFT_B)), saturated to the range of an OUT_BITS integer
//   of kind OUT_KIND (INT: two's complement, the default; UINT: 0 .. 2^OUT_BITS - 1).
// One word of PE channels per cycle; cycles per image = PIXELS * CH / PE. The shortcut input b
// needs a deep FIFO (set by the layer with a STREAM pragma) so the branch latency never stalls it.
#ifndef PYNQ_BNN_ELEMENTWISE_HPP
#define PYNQ_BNN_ELEMENTWISE_HPP

#include "bnn/common.hpp"

namespace bnn {

template <unsigned CH, unsigned PE, unsigned PIXELS, ElemKind A_KIND, unsigned A_BITS,
          ElemKind B_KIND, unsigned B_BITS, unsigned OUT_BITS, unsigned SHIFT_A,
          unsigned SHIFT_B, ElemKind OUT_KIND = INT>
void add_streams(hls::stream<ap_uint<PE * A_BITS> >& a, hls::stream<ap_uint<PE * B_BITS> >& b,
                 hls::stream<ap_uint<PE * OUT_BITS> >& out, unsigned reps) {
  static_assert(CH % PE == 0, "add_streams: CH must be a multiple of PE");
  constexpr long long HI = OUT_KIND == INT ? (1LL << (OUT_BITS - 1)) - 1 : (1LL << OUT_BITS) - 1;
  constexpr long long LO = OUT_KIND == INT ? -(1LL << (OUT_BITS - 1)) : 0;
  for (unsigned i = 0; i < reps * PIXELS * (CH / PE); i++) {
#pragma HLS PIPELINE II = 1
    const ap_uint<PE * A_BITS> wa = a.read();
    const ap_uint<PE * B_BITS> wb = b.read();
    ap_uint<PE * OUT_BITS> y = 0;
    for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
      const long long va = Decode<A_KIND, A_BITS>::value(lane<A_BITS>(wa, pe));
      const long long vb = Decode<B_KIND, B_BITS>::value(lane<B_BITS>(wb, pe));
      long long sum = va * (1LL << SHIFT_A) + vb * (1LL << SHIFT_B);
      sum = sum > HI ? HI : (sum < LO ? LO : sum);
      set_lane<OUT_BITS>(y, pe, sum);
    }
    out.write(y);
  }
}

}  // namespace bnn

#endif
