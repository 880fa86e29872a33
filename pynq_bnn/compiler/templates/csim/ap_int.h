// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// g++ C simulation only: the ap_int.h of the hls4ml ap_types (found after this folder on the
// include path), plus the one rule of Vitis's ap_int.h that those headers do not enforce at
// compile time: AP_INT_MAX_W takes effect only when it is defined BEFORE the first include of
// ap_int.h (UG1399; otherwise ap_common.h sets it to 1024 and a wider ap_[u]int aborts Vitis csim
// with "Bitwidth exceeds the default max value 1024"). The value seen here is recorded, and this
// folder's hls::stream and ap_axiu refuse (static_assert) any word wider than it.
#ifndef PYNQ_BNN_CSIM_AP_INT_H
#define PYNQ_BNN_CSIM_AP_INT_H

// The synthesizable branch of the templates is compiled with -D__SYNTHESIS__ (g++ runs it on real
// images); the ap_types headers themselves must still take their C++ simulation branch.
#ifdef __SYNTHESIS__
#define PYNQ_BNN_CSIM_SYNTH_BRANCH 1
#undef __SYNTHESIS__
#endif
#include_next <ap_int.h>
#ifdef PYNQ_BNN_CSIM_SYNTH_BRANCH
#define __SYNTHESIS__ 1
#endif

namespace pynq_bnn_csim {

// AP_INT_MAX_W as it was when ap_int.h was first included (later definitions change nothing).
constexpr int kApIntMaxWAtFirstInclude = AP_INT_MAX_W;

// Bit width of a stream element type (0: not an ap_[u]int word, not checked).
template <typename T>
struct WordBits {
  static constexpr int value = 0;
};
template <int W>
struct WordBits<ap_uint<W> > {
  static constexpr int value = W;
};
template <int W>
struct WordBits<ap_int<W> > {
  static constexpr int value = W;
};

template <int W>
struct CheckWidth {
  static_assert(W <= kApIntMaxWAtFirstInclude,
                "ap_[u]int wider than AP_INT_MAX_W as defined at the first include of ap_int.h: "
                "Vitis aborts with 'Bitwidth exceeds the default max value 1024'. Define "
                "AP_INT_MAX_W before the first #include of ap_int.h (or with -D).");
  static constexpr bool ok = true;
};

}  // namespace pynq_bnn_csim

#endif
