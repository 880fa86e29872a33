// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Label select (top-K): reads LABELS values (PE lanes per word), writes the K indices with the
// largest values, best first; ties go to the lower index (np.argsort(-x, kind="stable")[:K]).
// Hardware: a K-entry compare-and-shift network, one label per cycle; cycles per image =
// LABELS + K (PE only sets the input word width).
#ifndef PYNQ_BNN_LABEL_SELECT_HPP
#define PYNQ_BNN_LABEL_SELECT_HPP

#include "bnn/common.hpp"

namespace bnn {

template <unsigned LABELS, unsigned PE, unsigned K, ElemKind IN_KIND, unsigned IN_BITS,
          unsigned OUT_BITS>
void label_select(hls::stream<ap_uint<PE * IN_BITS> >& in, hls::stream<ap_uint<OUT_BITS> >& out,
                  unsigned reps) {
  static_assert(LABELS % PE == 0, "label_select: LABELS must be a multiple of PE");
  static_assert(K >= 1 && K <= LABELS, "label_select: need 1 <= K <= LABELS");
  static_assert((1ULL << OUT_BITS) >= LABELS, "label_select: OUT_BITS too small for LABELS");
  for (unsigned r = 0; r < reps; r++) {
    long long best_value[K];
    unsigned best_index[K];
    bool valid[K];
#pragma HLS ARRAY_PARTITION variable = best_value complete
#pragma HLS ARRAY_PARTITION variable = best_index complete
#pragma HLS ARRAY_PARTITION variable = valid complete
    for (unsigned k = 0; k < K; k++) {
#pragma HLS UNROLL
      valid[k] = false;
    }
    ap_uint<PE * IN_BITS> word = 0;
    for (unsigned i = 0; i < LABELS; i++) {
#pragma HLS PIPELINE II = 1
      if (i % PE == 0) word = in.read();
      const long long v = Decode<IN_KIND, IN_BITS>::value(lane<IN_BITS>(word, i % PE));
      // The list is sorted (best first), so "beats" is false...false true...true: the new entry
      // goes to the first true slot and the tail shifts down. Strict > keeps earlier indices
      // ahead on ties.
      bool beats[K];
#pragma HLS ARRAY_PARTITION variable = beats complete
      for (unsigned k = 0; k < K; k++) {
#pragma HLS UNROLL
        beats[k] = !valid[k] || v > best_value[k];
      }
      for (unsigned k = K; k-- > 0;) {
#pragma HLS UNROLL
        if (beats[k]) {
          const bool here = (k == 0) || !beats[k - 1];
          best_value[k] = here ? v : best_value[k - 1];
          best_index[k] = here ? i : best_index[k - 1];
          valid[k] = here ? true : valid[k - 1];
        }
      }
    }
    for (unsigned k = 0; k < K; k++) {
#pragma HLS PIPELINE II = 1
      out.write(ap_uint<OUT_BITS>(best_index[k]));
    }
  }
}

}  // namespace bnn

#endif
