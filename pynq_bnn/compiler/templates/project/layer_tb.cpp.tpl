// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Generated single-layer csim harness: $name
// usage: layer_tb <reps> <in0.bin> [<in1.bin>] <out.bin>
#include <cstdlib>

#include "tb_io.hpp"
$includes

$params

int main(int argc, char** argv) {
  if (argc != $argc) {
    std::fprintf(stderr, "usage: %s <reps> <inputs...> <output>\n", argv[0]);
    return 1;
  }
  const unsigned reps = (unsigned)std::atoi(argv[1]);
$body
  return 0;
}
