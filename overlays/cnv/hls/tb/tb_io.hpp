// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Testbench file I/O (csim only): words of W bits stored little-endian in ceil(W/8) bytes, the
// layout of pynq_bnn.compiler.hls.packing.pack_words.
#ifndef PYNQ_BNN_TB_IO_HPP
#define PYNQ_BNN_TB_IO_HPP

// Wide folded streams (e.g. SIMD 1024 plus a few control bits) exceed ap_int's default 1024-bit
// limit; the macro must be set before the first ap_int.h include.
#ifndef AP_INT_MAX_W
#define AP_INT_MAX_W 4096
#endif
#include <ap_int.h>
#include <hls_stream.h>

#include <cstdio>
#include <cstdlib>

namespace bnn_tb {

template <unsigned W>
bool read_word(std::FILE* file, ap_uint<W>& word) {
  constexpr unsigned BYTES = (W + 7) / 8;
  unsigned char buf[BYTES];
  if (std::fread(buf, 1, BYTES, file) != BYTES) return false;
  word = 0;
  for (unsigned b = 0; b < BYTES; b++) {
    const unsigned hi = (8 * b + 7 < W) ? 8 * b + 7 : W - 1;
    word.range(hi, 8 * b) = buf[b];
  }
  return true;
}

template <unsigned W>
void write_word(std::FILE* file, const ap_uint<W>& word) {
  constexpr unsigned BYTES = (W + 7) / 8;
  unsigned char buf[BYTES];
  for (unsigned b = 0; b < BYTES; b++) {
    const unsigned hi = (8 * b + 7 < W) ? 8 * b + 7 : W - 1;
    buf[b] = (unsigned char)word.range(hi, 8 * b).to_uint();
  }
  std::fwrite(buf, 1, BYTES, file);
}

inline std::FILE* open_or_die(const char* path, const char* mode) {
  std::FILE* file = std::fopen(path, mode);
  if (!file) {
    std::fprintf(stderr, "testbench: cannot open %s\n", path);
    std::exit(2);
  }
  return file;
}

// Fill a stream with `count` words from a file (exit 3 when the file is short).
template <unsigned W>
void load_stream(const char* path, hls::stream<ap_uint<W> >& stream, unsigned long count) {
  std::FILE* file = open_or_die(path, "rb");
  for (unsigned long i = 0; i < count; i++) {
    ap_uint<W> word;
    if (!read_word<W>(file, word)) {
      std::fprintf(stderr, "testbench: %s holds fewer than %lu words\n", path, count);
      std::exit(3);
    }
    stream.write(word);
  }
  std::fclose(file);
}

// Drain exactly `count` words to a file; fail (exit 4) when the design produced a different count.
template <unsigned W>
void store_stream(const char* path, hls::stream<ap_uint<W> >& stream, unsigned long count) {
  std::FILE* file = open_or_die(path, "wb");
  for (unsigned long i = 0; i < count; i++) {
    if (stream.empty()) {
      std::fprintf(stderr, "testbench: design produced %lu of %lu output words\n", i, count);
      std::exit(4);
    }
    write_word<W>(file, stream.read());
  }
  std::fclose(file);
  if (!stream.empty()) {
    std::fprintf(stderr, "testbench: design produced more than %lu output words\n", count);
    std::exit(4);
  }
}

}  // namespace bnn_tb

#endif
