// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Depthwise MAC (FINN's VVAU) for LAB (Falkena et al., WACV 2023): per channel c the K2 window
// taps x[c][t] (sliding-window order (ky, kx, c), PE channels per word) are multiplied by the
// integer difference kernel w[c][t] and summed, acc_c = sum_t w[c][t] * x[c][t]; act then
// compares (Thresholds: y_c = [acc_c >= T_c], direction via neg). Cycles per image =
// PIXELS * K2 * CH / PE.
#ifndef PYNQ_BNN_VVAU_HPP
#define PYNQ_BNN_VVAU_HPP

#include "bnn/activations.hpp"
#include "bnn/common.hpp"

namespace bnn {

template <unsigned K2, unsigned CH, unsigned PE, unsigned PIXELS, ElemKind IN_KIND,
          unsigned IN_BITS, unsigned OUT_BITS, typename TW, typename Act>
void depthwise_mac(hls::stream<ap_uint<PE * IN_BITS> >& in,
                   hls::stream<ap_uint<PE * OUT_BITS> >& out, const TW weights[PE][CH / PE][K2],
                   const Act& act, unsigned reps) {
  static_assert(CH % PE == 0, "depthwise_mac: CH must be a multiple of PE");
  constexpr unsigned CF = CH / PE;
  long long acc[CF][PE];
#pragma HLS ARRAY_PARTITION variable = acc complete dim = 2
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned p = 0; p < PIXELS; p++) {
      for (unsigned i = 0; i < K2 * CF; i++) {
#pragma HLS PIPELINE II = 1
        const unsigned cf = i % CF;
        const unsigned t = i / CF;
        const ap_uint<PE * IN_BITS> x = in.read();
        for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
          const long long v = Decode<IN_KIND, IN_BITS>::value(lane<IN_BITS>(x, pe));
          acc[cf][pe] = (t == 0 ? 0 : acc[cf][pe]) + (long long)weights[pe][cf][t] * v;
        }
        if (t == K2 - 1) {
          ap_uint<PE * OUT_BITS> y = 0;
          for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
            set_lane<OUT_BITS>(y, pe, act.activate(cf, pe, acc[cf][pe]));
          }
          out.write(y);
        }
      }
    }
  }
}

}  // namespace bnn

#endif
