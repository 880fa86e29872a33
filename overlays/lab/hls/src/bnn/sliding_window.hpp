// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Sliding-window generator (FINN's ConvolutionInputGenerator): turns an (IH, IW, CH) image into
// the im2col stream of KH x KW windows (strides SH, SW), one window per output pixel in row-major
// order, each window in (ky, kx, c) order with c fastest: exactly the MVAU column order of a conv
// weight matrix reshaped from (C_out, ky, kx, c_in). Padding PAD_T/PAD_L/PAD_B/PAD_R (top, left,
// bottom, right) inserts the raw lane value PAD_VALUE (for BIPOLAR streams the model decides
// which of +-1 the border is).
//
// Implementation: the image is buffered (IH*IW*CH/SIMD words) and then the windows are read out,
// so cycles per image = IH*IW*CF + OH*OW*KH*KW*CF (CF = CH/SIMD); reading and emitting of one image
// do not overlap.
#ifndef PYNQ_BNN_SLIDING_WINDOW_HPP
#define PYNQ_BNN_SLIDING_WINDOW_HPP

#include "bnn/common.hpp"

namespace bnn {

template <unsigned KH, unsigned KW, unsigned SH, unsigned SW, unsigned PAD_T, unsigned PAD_L,
          unsigned PAD_B, unsigned PAD_R, unsigned IH, unsigned IW, unsigned CH, unsigned SIMD,
          unsigned BITS, unsigned PAD_VALUE = 0>
void sliding_window(hls::stream<ap_uint<SIMD * BITS> >& in,
                    hls::stream<ap_uint<SIMD * BITS> >& out, unsigned reps) {
  static_assert(CH % SIMD == 0, "sliding_window: CH must be a multiple of SIMD");
  static_assert(IH + PAD_T + PAD_B >= KH && IW + PAD_L + PAD_R >= KW,
                "sliding_window: kernel larger than the padded image");
  constexpr unsigned CF = CH / SIMD;
  constexpr unsigned OH = (IH + PAD_T + PAD_B - KH) / SH + 1;
  constexpr unsigned OW = (IW + PAD_L + PAD_R - KW) / SW + 1;
  ap_uint<SIMD * BITS> frame[IH * IW * CF];
  ap_uint<SIMD * BITS> pad_word = 0;
  for (unsigned s = 0; s < SIMD; s++) set_lane<BITS>(pad_word, s, PAD_VALUE);
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned i = 0; i < IH * IW * CF; i++) {
#pragma HLS PIPELINE II = 1
      frame[i] = in.read();
    }
    for (unsigned i = 0; i < OH * OW * KH * KW * CF; i++) {
#pragma HLS PIPELINE II = 1
      const unsigned cf = i % CF;
      const unsigned kx = (i / CF) % KW;
      const unsigned ky = (i / (CF * KW)) % KH;
      const unsigned ox = (i / (CF * KW * KH)) % OW;
      const unsigned oy = i / (CF * KW * KH * OW);
      const int y = int(oy * SH + ky) - int(PAD_T);
      const int x = int(ox * SW + kx) - int(PAD_L);
      const bool inside = y >= 0 && y < int(IH) && x >= 0 && x < int(IW);
      out.write(inside ? frame[(unsigned(y) * IW + unsigned(x)) * CF + cf] : pad_word);
    }
  }
}

}  // namespace bnn

#endif
