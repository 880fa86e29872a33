// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Minimal AXI-Stream side-channel word for g++ C simulation only (Vitis HLS uses its own header).
// Same field names as the vendor type: data, keep, strb, user, last, id, dest.
#ifndef PYNQ_BNN_CSIM_AP_AXI_SDATA_H
#define PYNQ_BNN_CSIM_AP_AXI_SDATA_H

// Wide folded streams (e.g. SIMD 1024 plus a few control bits) exceed ap_int's default 1024-bit
// limit; the macro must be set before the first ap_int.h include.
#ifndef AP_INT_MAX_W
#define AP_INT_MAX_W 4096
#endif
#include <ap_int.h>

template <int D, int U, int TI, int TD>
struct ap_axiu {
  ap_uint<D> data;
  ap_uint<(D + 7) / 8> keep;
  ap_uint<(D + 7) / 8> strb;
  ap_uint<(U > 0 ? U : 1)> user;
  ap_uint<1> last;
  ap_uint<(TI > 0 ? TI : 1)> id;
  ap_uint<(TD > 0 ? TD : 1)> dest;
};

#endif
