// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// AXI-Stream side-channel word for g++ C simulation only, written from the documented behaviour
// of Vitis HLS's own ap_axi_sdata.h (UG1399, "AXI4-Stream Interfaces with Side-Channels"), so
// that code csim accepts is code Vitis accepts:
//   ap_axiu<D, U, TI, TD>: data (D bits), keep and strb (D/8 bits), last (1 bit), and the
//   side channels user (U bits), id (TI bits), dest (TD bits). A side channel of width 0 is
//   * Vitis 2022.1 and later (default here): a member of a disabled-signal type that cannot be
//     assigned, read or converted (`word.user = 0` does not compile);
//   * Vitis 2020.2 - 2021.x (define PYNQ_BNN_AXIS_2021): absent (`word.user` does not exist).
// Words wider than AP_INT_MAX_W at the first ap_int.h include are refused (see ap_int.h here).
#ifndef PYNQ_BNN_CSIM_AP_AXI_SDATA_H
#define PYNQ_BNN_CSIM_AP_AXI_SDATA_H

#include <ap_int.h>

namespace pynq_bnn_csim {

// The type of a zero-width side channel (2022.1+): no value, no assignment, no conversion.
struct AxisDisabledSignal {
  AxisDisabledSignal() = default;
  template <typename T>
  AxisDisabledSignal& operator=(const T&) = delete;
};

#ifdef PYNQ_BNN_AXIS_2021
// 2020.2 - 2021.x: members exist only for non-zero widths (one base class per side channel).
template <int U>
struct AxisUser {
  ap_uint<U> user;
};
template <>
struct AxisUser<0> {};
template <int TI>
struct AxisId {
  ap_uint<TI> id;
};
template <>
struct AxisId<0> {};
template <int TD>
struct AxisDest {
  ap_uint<TD> dest;
};
template <>
struct AxisDest<0> {};
#else
template <int W>
struct AxisSignal {
  typedef ap_uint<W> type;
};
template <>
struct AxisSignal<0> {
  typedef AxisDisabledSignal type;
};
#endif

}  // namespace pynq_bnn_csim

#ifdef PYNQ_BNN_AXIS_2021
template <int D, int U, int TI, int TD>
struct ap_axiu : pynq_bnn_csim::AxisUser<U>,
                 pynq_bnn_csim::AxisId<TI>,
                 pynq_bnn_csim::AxisDest<TD> {
  static_assert(pynq_bnn_csim::CheckWidth<D>::ok, "AXI data width");
  ap_uint<D> data;
  ap_uint<(D + 7) / 8> keep;
  ap_uint<(D + 7) / 8> strb;
  ap_uint<1> last;
};
#else
template <int D, int U, int TI, int TD>
struct ap_axiu {
  static_assert(pynq_bnn_csim::CheckWidth<D>::ok, "AXI data width");
  ap_uint<D> data;
  ap_uint<(D + 7) / 8> keep;
  ap_uint<(D + 7) / 8> strb;
  typename pynq_bnn_csim::AxisSignal<U>::type user;
  ap_uint<1> last;
  typename pynq_bnn_csim::AxisSignal<TI>::type id;
  typename pynq_bnn_csim::AxisSignal<TD>::type dest;
};
#endif

#endif
