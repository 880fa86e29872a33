// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Input stages turning uint8 pixels into binary channels (one pixel of CH colours per word).
//   thermometer (FracBNN): output bit c*NT + i = [p_c >= thr[c][i]]; NT comparators per colour.
//   bit_planes (bit-plane input layer, Vorabbi et al. 2023): output bit c*8 + b = bit b of p_c;
//       pure wiring in hardware.
// Cycles per image: PIXELS (one pixel per cycle).
#ifndef PYNQ_BNN_INPUT_ENCODE_HPP
#define PYNQ_BNN_INPUT_ENCODE_HPP

#include "bnn/common.hpp"

namespace bnn {

template <unsigned CH, unsigned NT, unsigned PIXELS, typename TThr>
void thermometer(hls::stream<ap_uint<CH * 8> >& in, hls::stream<ap_uint<CH * NT> >& out,
                 const TThr thr[CH][NT], unsigned reps) {
  for (unsigned i = 0; i < reps * PIXELS; i++) {
#pragma HLS PIPELINE II = 1
    const ap_uint<CH * 8> pixel = in.read();
    ap_uint<CH * NT> bits = 0;
    for (unsigned c = 0; c < CH; c++) {
#pragma HLS UNROLL
      const unsigned p = lane<8>(pixel, c).to_uint();
      for (unsigned t = 0; t < NT; t++) {
#pragma HLS UNROLL
        bits[c * NT + t] = (p >= (unsigned)thr[c][t]) ? 1 : 0;
      }
    }
    out.write(bits);
  }
}

template <unsigned CH, unsigned PIXELS>
void bit_planes(hls::stream<ap_uint<CH * 8> >& in, hls::stream<ap_uint<CH * 8> >& out,
                unsigned reps) {
  // Bit b of colour c sits at c*8 + b in both layouts: the stage only re-types the word.
  for (unsigned i = 0; i < reps * PIXELS; i++) {
#pragma HLS PIPELINE II = 1
    out.write(in.read());
  }
}

}  // namespace bnn

#endif
