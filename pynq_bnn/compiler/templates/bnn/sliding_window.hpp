// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Sliding-window generator (FINN's ConvolutionInputGenerator): turns an (IH, IW, CH) image into
// the im2col stream of K x K windows, one window per output pixel in row-major order, each
// window in (ky, kx, c) order with c fastest: exactly the MVAU column order of a conv weight
// matrix reshaped from (C_out, ky, kx, c_in). Zero padding PAD on every border uses the raw
// lane value PAD_VALUE (for BIPOLAR streams the model decides which of +-1 the border is).
//
// Implementation: the image is buffered (IH*IW*CH/SIMD words) and then the windows are read out,
// so cycles per image = IH*IW*CF + OH*OW*K*K*CF (CF = CH/SIMD); reading and emitting of one image
// do not overlap.
#ifndef PYNQ_BNN_SLIDING_WINDOW_HPP
#define PYNQ_BNN_SLIDING_WINDOW_HPP

#include "bnn/common.hpp"

namespace bnn {

template <unsigned K, unsigned STRIDE, unsigned PAD, unsigned IH, unsigned IW, unsigned CH,
          unsigned SIMD, unsigned BITS, unsigned PAD_VALUE = 0>
void sliding_window(hls::stream<ap_uint<SIMD * BITS> >& in,
                    hls::stream<ap_uint<SIMD * BITS> >& out, unsigned reps) {
  static_assert(CH % SIMD == 0, "sliding_window: CH must be a multiple of SIMD");
  static_assert(IH + 2 * PAD >= K && IW + 2 * PAD >= K, "sliding_window: kernel larger than image");
  constexpr unsigned CF = CH / SIMD;
  constexpr unsigned OH = (IH + 2 * PAD - K) / STRIDE + 1;
  constexpr unsigned OW = (IW + 2 * PAD - K) / STRIDE + 1;
  ap_uint<SIMD * BITS> frame[IH * IW * CF];
  ap_uint<SIMD * BITS> pad_word = 0;
  for (unsigned s = 0; s < SIMD; s++) set_lane<BITS>(pad_word, s, PAD_VALUE);
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned i = 0; i < IH * IW * CF; i++) {
#pragma HLS PIPELINE II = 1
      frame[i] = in.read();
    }
    for (unsigned i = 0; i < OH * OW * K * K * CF; i++) {
#pragma HLS PIPELINE II = 1
      const unsigned cf = i % CF;
      const unsigned kx = (i / CF) % K;
      const unsigned ky = (i / (CF * K)) % K;
      const unsigned ox = (i / (CF * K * K)) % OW;
      const unsigned oy = i / (CF * K * K * OW);
      const int y = int(oy * STRIDE + ky) - int(PAD);
      const int x = int(ox * STRIDE + kx) - int(PAD);
      const bool inside = y >= 0 && y < int(IH) && x >= 0 && x < int(IW);
      out.write(inside ? frame[(unsigned(y) * IW + unsigned(x)) * CF + cf] : pad_word);
    }
  }
}

}  // namespace bnn

#endif
