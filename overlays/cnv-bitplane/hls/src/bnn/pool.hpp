// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Pooling over non-overlapping KH x KW windows (stride = kernel, floor mode: trailing rows/columns that do
// not fill a window are read and dropped, as torch.nn.MaxPool2d/AvgPool2d do).
//   max_pool: max of decoded values per channel (BIPOLAR: an OR of the bits).
//   sum_pool: window sum of decoded values in OUT_BITS lanes (INT, or UINT when every input is
//             non-negative; an average pool's 1/K^2 scale is folded into the next layer's
//             thresholds; KH = IH, KW = IW gives global pooling).
// A row of OW*CF partial results is kept; cycles per image = IH * IW * CH / PE.
#ifndef PYNQ_BNN_POOL_HPP
#define PYNQ_BNN_POOL_HPP

#include "bnn/common.hpp"

namespace bnn {

template <unsigned KH, unsigned KW, unsigned IH, unsigned IW, unsigned CH, unsigned PE, ElemKind KIND,
          unsigned BITS>
void max_pool(hls::stream<ap_uint<PE * BITS> >& in, hls::stream<ap_uint<PE * BITS> >& out,
              unsigned reps) {
  static_assert(CH % PE == 0, "max_pool: CH must be a multiple of PE");
  constexpr unsigned CF = CH / PE;
  constexpr unsigned OH = IH / KH;
  constexpr unsigned OW = IW / KW;
  ap_uint<PE * BITS> best[OW * CF];
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned i = 0; i < IH * IW * CF; i++) {
#pragma HLS PIPELINE II = 1
      const unsigned cf = i % CF;
      const unsigned x = (i / CF) % IW;
      const unsigned y = i / (CF * IW);
      const ap_uint<PE * BITS> word = in.read();
      if (y >= OH * KH || x >= OW * KW) continue;
      const unsigned slot = (x / KW) * CF + cf;
      const bool first = (y % KH == 0) && (x % KW == 0);
      ap_uint<PE * BITS> merged = first ? word : best[slot];
      if (!first) {
        for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
          const ap_uint<BITS> a = lane<BITS>(word, pe);
          const ap_uint<BITS> b = lane<BITS>(merged, pe);
          if (Decode<KIND, BITS>::value(a) > Decode<KIND, BITS>::value(b)) {
            merged.range((pe + 1) * BITS - 1, pe * BITS) = a;
          }
        }
      }
      best[slot] = merged;
      if (y % KH == KH - 1 && x % KW == KW - 1) out.write(merged);
    }
  }
}

template <unsigned KH, unsigned KW, unsigned IH, unsigned IW, unsigned CH, unsigned PE, ElemKind IN_KIND,
          unsigned IN_BITS, unsigned OUT_BITS>
void sum_pool(hls::stream<ap_uint<PE * IN_BITS> >& in, hls::stream<ap_uint<PE * OUT_BITS> >& out,
              unsigned reps) {
  static_assert(CH % PE == 0, "sum_pool: CH must be a multiple of PE");
  constexpr unsigned CF = CH / PE;
  constexpr unsigned OH = IH / KH;
  constexpr unsigned OW = IW / KW;
  // partial sums one bit wider than the output, so UINT outputs (sums of UINT inputs) and INT
  // outputs read back the same
  ap_int<OUT_BITS + 1> sums[OW * CF][PE];
#pragma HLS ARRAY_PARTITION variable = sums complete dim = 2
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned i = 0; i < IH * IW * CF; i++) {
#pragma HLS PIPELINE II = 1
      const unsigned cf = i % CF;
      const unsigned x = (i / CF) % IW;
      const unsigned y = i / (CF * IW);
      const ap_uint<PE * IN_BITS> word = in.read();
      if (y >= OH * KH || x >= OW * KW) continue;
      const unsigned slot = (x / KW) * CF + cf;
      const bool first = (y % KH == 0) && (x % KW == 0);
      ap_uint<PE * OUT_BITS> total = 0;
      for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
        const long long prev = first ? 0 : (long long)sums[slot][pe].to_int64();
        const long long sum = prev + Decode<IN_KIND, IN_BITS>::value(lane<IN_BITS>(word, pe));
        sums[slot][pe] = sum;
        set_lane<OUT_BITS>(total, pe, sum);
      }
      if (y % KH == KH - 1 && x % KW == KW - 1) out.write(total);
    }
  }
}

}  // namespace bnn

#endif
