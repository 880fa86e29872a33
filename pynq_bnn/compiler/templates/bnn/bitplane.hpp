// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Fused bit-plane convolution of the bit-plane input stage (Vorabbi, Maltoni, Santi 2023; HW
// layer BitPlaneConv, CONTRACT.md section 5). Input: one pixel per word, 8*CH plane bits, bit
// 8c + j = bit j of colour c (the output of bnn::bit_planes). Output: CH*PLANE_CH BIPOLAR
// fused channels per pixel, PE per word; fused channel f = c*PLANE_CH + m, f = nf*PE + pe.
// Per output pixel and fused channel (c, m), for the 8 planes j of colour c:
//   a_j = sum over valid taps t of (w_j[t] XNOR s_{8c+j}[t]) as +-1   (padded taps add 0)
//   u_j = plane_act(8*nf + j, pe, a_j)           (0/1: BN + sign of the plane conv)
//   v   = sum_j (u_j ? fw_j : -fw_j)             (shift-weighted colour sum, no multiplier)
//   out = fuse_act(nf, pe, v)                    (0/1)
// Parameters (built by BitPlaneConv.render_hls with the helpers of compiler/hls/params.py):
//   weights  PackedWeights<PE, NF, 8*K*K>: tile nf, lane j (K*K bits, tap t = ky*K + kx) = the
//            kernel of plane 8c + j for kernel index m (bit 1 = +1);
//   plane_act  Thresholds<8*NF, PE, 1, ...>: fold index 8*nf + j;
//   fuse_w   PackedWeights<PE, NF, 8*FW_BITS>: lane j = fw_j as INT<FW_BITS>;
//   fuse_act Thresholds<NF, PE, 1, ...>.
// Stride 1, square kernel K, PAD zero taps on each side: OH = IH + 2*PAD - K + 1 (same for W).
//
// Implementation: the image is buffered (IH*IW words, rows cyclically partitioned into K banks
// so that one column of the window is read per cycle), then per output row K-1 cycles fill the
// K x K window register and every output pixel takes NF = CH*PLANE_CH/PE cycles, the window
// shifting by one column during the first of them. Cycles per image:
//   IH*IW + OH*(K - 1 + OW*NF)
// (reading and computing of one image do not overlap, as in bnn::sliding_window).
#ifndef PYNQ_BNN_BITPLANE_HPP
#define PYNQ_BNN_BITPLANE_HPP

#include "bnn/activations.hpp"
#include "bnn/common.hpp"

namespace bnn {

/// Shift the K x K window one column left and load column `col` (padded image coordinates) of
/// rows `top .. top+K-1` (padded coordinates) into its last column; padded taps hold 0 and are
/// marked invalid.
template <unsigned IH, unsigned IW, unsigned WB, unsigned K, unsigned PAD>
inline void bitplane_shift_column(const ap_uint<WB> frame[IH][IW], ap_uint<WB> win[K][K],
                                  bool valid[K][K], unsigned top, unsigned col) {
#pragma HLS INLINE
  for (unsigned ky = 0; ky < K; ky++) {
#pragma HLS UNROLL
    for (unsigned kx = 0; kx + 1 < K; kx++) {
#pragma HLS UNROLL
      win[ky][kx] = win[ky][kx + 1];
      valid[ky][kx] = valid[ky][kx + 1];
    }
    const int y = int(top + ky) - int(PAD);
    const int x = int(col) - int(PAD);
    const bool inside = y >= 0 && y < int(IH) && x >= 0 && x < int(IW);
    win[ky][K - 1] = inside ? frame[unsigned(y)][unsigned(x)] : ap_uint<WB>(0);
    valid[ky][K - 1] = inside;
  }
}

/// The bit-plane input stage after bnn::bit_planes (see the file comment for the semantics).
///
/// @tparam IH, IW     input image size.
/// @tparam CH         colour channels C (the input word carries 8*CH plane bits).
/// @tparam PLANE_CH   k: binary kernels per plane (fused channels = CH*PLANE_CH).
/// @tparam K, PAD     square kernel size and zero padding per side (stride 1).
/// @tparam PE         fused output channels per cycle (divides CH*PLANE_CH).
/// @tparam FW_BITS    width of the signed fuse weights.
/// @param in          pixels, 8*CH bits per word.
/// @param out         fused output bits, PE per word, output pixels row-major, channels fastest.
/// @param reps        images to process.
template <unsigned IH, unsigned IW, unsigned CH, unsigned PLANE_CH, unsigned K, unsigned PAD,
          unsigned PE, unsigned FW_BITS, typename PlaneAct, typename FuseAct>
void bitplane_conv(hls::stream<ap_uint<CH * 8> >& in, hls::stream<ap_uint<PE> >& out,
                   const PackedWeights<PE, CH * PLANE_CH / PE, 8 * K * K>& weights,
                   const PlaneAct& plane_act,
                   const PackedWeights<PE, CH * PLANE_CH / PE, 8 * FW_BITS>& fuse_w,
                   const FuseAct& fuse_act, unsigned reps) {
  static_assert((CH * PLANE_CH) % PE == 0, "bitplane_conv: PE must divide CH*PLANE_CH");
  static_assert(IH + 2 * PAD >= K && IW + 2 * PAD >= K,
                "bitplane_conv: kernel larger than the padded image");
  constexpr unsigned WB = CH * 8;
  constexpr unsigned KK = K * K;
  constexpr unsigned NF = CH * PLANE_CH / PE;
  constexpr unsigned OH = IH + 2 * PAD - K + 1;
  constexpr unsigned OW = IW + 2 * PAD - K + 1;
  // weights: partitioned where they are defined (params header, inside bnn_top).
  ap_uint<WB> frame[IH][IW];
#pragma HLS ARRAY_PARTITION variable = frame cyclic factor = K dim = 1
  ap_uint<WB> win[K][K];
#pragma HLS ARRAY_PARTITION variable = win complete dim = 0
  bool valid[K][K];
#pragma HLS ARRAY_PARTITION variable = valid complete dim = 0

  for (unsigned r = 0; r < reps; r++) {
    for (unsigned i = 0; i < IH * IW; i++) {
#pragma HLS PIPELINE II = 1
      frame[i / IW][i % IW] = in.read();
    }
    for (unsigned oy = 0; oy < OH; oy++) {
      // Pre-load the first K-1 columns of the row's first window.
      for (unsigned col = 0; col + 1 < K; col++) {
#pragma HLS PIPELINE II = 1
        bitplane_shift_column<IH, IW, WB, K, PAD>(frame, win, valid, oy, col);
      }
      for (unsigned i = 0; i < OW * NF; i++) {
#pragma HLS PIPELINE II = 1
        const unsigned nf = i % NF;
        const unsigned ox = i / NF;
        if (nf == 0) bitplane_shift_column<IH, IW, WB, K, PAD>(frame, win, valid, oy, ox + K - 1);
        ap_uint<KK> valid_bits = 0;
        for (unsigned t = 0; t < KK; t++) {
#pragma HLS UNROLL
          valid_bits[t] = valid[t / K][t % K];
        }
        const long long taps = (long long)popcount<KK>(valid_bits);
        ap_uint<PE> y = 0;
        for (unsigned pe = 0; pe < PE; pe++) {
#pragma HLS UNROLL
          const unsigned c = (nf * PE + pe) / PLANE_CH;
          const ap_uint<8 * KK> kernels = weights.get(pe, nf);
          const ap_uint<8 * FW_BITS> fw = fuse_w.get(pe, nf);
          long long v = 0;
          for (unsigned j = 0; j < 8; j++) {
#pragma HLS UNROLL
            ap_uint<KK> plane = 0;
            for (unsigned t = 0; t < KK; t++) {
#pragma HLS UNROLL
              plane[t] = win[t / K][t % K][c * 8 + j];
            }
            const ap_uint<KK> agree = ~(lane<KK>(kernels, j) ^ plane) & valid_bits;
            const long long a = 2 * (long long)popcount<KK>(agree) - taps;
            const long long w = Decode<INT, FW_BITS>::value(lane<FW_BITS>(fw, j));
            v += plane_act.activate(nf * 8 + j, pe, a) ? w : -w;
          }
          y[pe] = fuse_act.activate(nf, pe, v) ? 1 : 0;
        }
        out.write(y);
      }
    }
  }
}

}  // namespace bnn

#endif
