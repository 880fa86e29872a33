// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// AXI-Stream boundary of the accelerator (CONTRACT.md section 2): strip / add the side channels.
// TLAST is set on the final word of the final image, so one DMA transfer carries a whole batch.
#ifndef PYNQ_BNN_AXI_HPP
#define PYNQ_BNN_AXI_HPP

#include <ap_axi_sdata.h>

#include "bnn/common.hpp"

namespace bnn {

template <unsigned AXI_W>
using AxiWord = ap_axiu<AXI_W, 0, 0, 0>;

template <unsigned AXI_W, unsigned WORDS>
void axi_to_stream(hls::stream<AxiWord<AXI_W> >& in, hls::stream<ap_uint<AXI_W> >& out,
                   unsigned reps) {
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned i = 0; i < WORDS; i++) {
#pragma HLS PIPELINE II = 1
      const AxiWord<AXI_W> word = in.read();
      out.write(word.data);
    }
  }
}

template <unsigned AXI_W, unsigned WORDS>
void stream_to_axi(hls::stream<ap_uint<AXI_W> >& in, hls::stream<AxiWord<AXI_W> >& out,
                   unsigned reps) {
  for (unsigned r = 0; r < reps; r++) {
    for (unsigned i = 0; i < WORDS; i++) {
#pragma HLS PIPELINE II = 1
      AxiWord<AXI_W> word;
      word.data = in.read();
      word.keep = -1;
      word.strb = -1;
      // ap_axiu<W, 0, 0, 0> has no usable user/id/dest (absent before Vitis 2022.1, a disabled
      // type from 2022.1 on): they are never assigned.
      word.last = (r == reps - 1) && (i == WORDS - 1);
      out.write(word);
    }
  }
}

}  // namespace bnn

#endif
