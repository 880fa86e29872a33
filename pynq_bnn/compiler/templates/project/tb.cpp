// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Accelerator testbench (g++ csim and Vitis HLS csim/cosim): feeds packed AXI input words from a
// file to bnn_top in batches and writes the output words to a file.
// usage: tb <in.bin> <out.bin> <num_images> [batch]
// Files hold BNN_IN_WORDS / BNN_OUT_WORDS words per image, ceil(BNN_AXI_W/8) bytes per word,
// little-endian (pynq_bnn.compiler.hls.packing). Checks TLAST: set on the last word of a batch only.
#include <cstdio>
#include <cstdlib>

#include "bnn_top.hpp"
#include "tb_io.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <in.bin> <out.bin> <num_images> [batch]\n", argv[0]);
    return 1;
  }
  const unsigned total = (unsigned)std::atoi(argv[3]);
  const unsigned batch = argc > 4 ? (unsigned)std::atoi(argv[4]) : 16;
  std::FILE* in_file = bnn_tb::open_or_die(argv[1], "rb");
  std::FILE* out_file = bnn_tb::open_or_die(argv[2], "wb");
  hls::stream<ap_axiu<BNN_AXI_W, 0, 0, 0> > in_stream("in_stream");
  hls::stream<ap_axiu<BNN_AXI_W, 0, 0, 0> > out_stream("out_stream");
  for (unsigned start = 0; start < total; start += batch) {
    const unsigned n = (total - start < batch) ? total - start : batch;
    const unsigned long in_words = (unsigned long)n * BNN_IN_WORDS;
    for (unsigned long i = 0; i < in_words; i++) {
      ap_axiu<BNN_AXI_W, 0, 0, 0> word;
      if (!bnn_tb::read_word<BNN_AXI_W>(in_file, word.data)) {
        std::fprintf(stderr, "testbench: %s is shorter than %u images\n", argv[1], total);
        return 3;
      }
      word.keep = -1;
      word.strb = -1;
      word.last = (i == in_words - 1);
      in_stream.write(word);
    }
    unsigned identity = 0;
    bnn_top(in_stream, out_stream, n, &identity);
    if (identity != BNN_IDENTITY) {
      std::fprintf(stderr, "testbench: identity register 0x%08x, expected 0x%08x\n", identity,
                   (unsigned)BNN_IDENTITY);
      return 7;
    }
    const unsigned long out_words = (unsigned long)n * BNN_OUT_WORDS;
    for (unsigned long i = 0; i < out_words; i++) {
      if (out_stream.empty()) {
        std::fprintf(stderr, "testbench: got %lu of %lu output words\n", i, out_words);
        return 4;
      }
      const ap_axiu<BNN_AXI_W, 0, 0, 0> word = out_stream.read();
      if ((word.last == 1) != (i == out_words - 1)) {
        std::fprintf(stderr, "testbench: TLAST wrong on output word %lu\n", i);
        return 5;
      }
      bnn_tb::write_word<BNN_AXI_W>(out_file, word.data);
    }
    if (!out_stream.empty() || !in_stream.empty()) {
      std::fprintf(stderr, "testbench: streams not empty after a batch\n");
      return 6;
    }
  }
  std::fclose(in_file);
  std::fclose(out_file);
  return 0;
}
