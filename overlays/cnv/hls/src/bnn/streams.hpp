// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Stream plumbing inserted by the assembler: width conversion and duplication (fork).
#ifndef PYNQ_BNN_STREAMS_HPP
#define PYNQ_BNN_STREAMS_HPP

#include "bnn/common.hpp"

namespace bnn {

// Re-pack IN_WORDS words of IN_W bits into OUT_WORDS words of OUT_W bits per image, LSB-first.
// If the output holds fewer bits, the trailing input bits are dropped (AXI padding); if more,
// the last output word is zero-padded. One read and/or one write per cycle: cycles per image =
// max(IN_WORDS, OUT_WORDS) (+1). A bit buffer of IN_W + OUT_W bits holds the pending bits.
template <unsigned IN_W, unsigned OUT_W, unsigned IN_WORDS, unsigned OUT_WORDS>
void resize(hls::stream<ap_uint<IN_W> >& in, hls::stream<ap_uint<OUT_W> >& out, unsigned reps) {
  constexpr unsigned BUF_W = IN_W + OUT_W;
  for (unsigned r = 0; r < reps; r++) {
    ap_uint<BUF_W> buf = 0;
    unsigned have = 0;
    unsigned n_in = 0;
    unsigned n_out = 0;
    for (unsigned it = 0; it < IN_WORDS + OUT_WORDS; it++) {
#pragma HLS PIPELINE II = 1
      if (n_in == IN_WORDS && n_out == OUT_WORDS) break;
      ap_uint<BUF_W> next = buf;
      unsigned after = have;
      if (n_out < OUT_WORDS && (have >= OUT_W || n_in == IN_WORDS)) {
        out.write(ap_uint<OUT_W>(buf.range(OUT_W - 1, 0)));
        next = buf >> OUT_W;
        after = have >= OUT_W ? have - OUT_W : 0;
        n_out++;
      }
      if (n_in < IN_WORDS && (after < OUT_W || n_out == OUT_WORDS)) {
        const ap_uint<IN_W> word = in.read();
        if (n_out < OUT_WORDS) {
          next |= ap_uint<BUF_W>(word) << after;
          after += IN_W;
        }
        n_in++;
      }
      buf = next;
      have = after;
    }
  }
}

// Same-width copy (used when a resize is not needed but a separate stream is).
template <unsigned W, unsigned WORDS>
void copy_stream(hls::stream<ap_uint<W> >& in, hls::stream<ap_uint<W> >& out, unsigned reps) {
  for (unsigned i = 0; i < reps * WORDS; i++) {
#pragma HLS PIPELINE II = 1
    out.write(in.read());
  }
}

// Fork: every word of in goes to both outputs (residual shortcuts, tensors with two consumers).
template <unsigned W, unsigned WORDS>
void duplicate(hls::stream<ap_uint<W> >& in, hls::stream<ap_uint<W> >& out0,
               hls::stream<ap_uint<W> >& out1, unsigned reps) {
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned i = 0; i < WORDS; i++) {
#pragma HLS PIPELINE II = 1
      const ap_uint<W> word = in.read();
      out0.write(word);
      out1.write(word);
    }
  }
}

// Widen every lane from IN_BITS to OUT_BITS (sign- or zero-extended): the accelerator output is
// sent in byte-sized elements (8/16/32 bits) so the driver can view it as a numpy array.
template <unsigned LANES, unsigned IN_BITS, unsigned OUT_BITS, ElemKind KIND, unsigned WORDS>
void widen(hls::stream<ap_uint<LANES * IN_BITS> >& in, hls::stream<ap_uint<LANES * OUT_BITS> >& out,
           unsigned reps) {
  for (unsigned i = 0; i < reps * WORDS; i++) {
#pragma HLS PIPELINE II = 1
    const ap_uint<LANES * IN_BITS> x = in.read();
    ap_uint<LANES * OUT_BITS> y = 0;
    for (unsigned l = 0; l < LANES; l++) {
#pragma HLS UNROLL
      set_lane<OUT_BITS>(y, l, Decode<KIND, IN_BITS>::value(lane<IN_BITS>(x, l)));
    }
    out.write(y);
  }
}

}  // namespace bnn

#endif
