// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Minimal hls::stream for g++ C simulation only (Vitis HLS uses its own header).
// Semantics: unbounded FIFO; reading an empty stream is a deadlock in hardware, so csim aborts
// with the stream name instead of returning garbage.
#ifndef PYNQ_BNN_CSIM_HLS_STREAM_H
#define PYNQ_BNN_CSIM_HLS_STREAM_H

#include <ap_int.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace hls {

template <typename T>
class stream {
  // A word wider than AP_INT_MAX_W at the first ap_int.h include fails as in Vitis.
  static_assert(pynq_bnn_csim::CheckWidth<pynq_bnn_csim::WordBits<T>::value>::ok, "stream word");

 public:
  stream() : name_("unnamed") {}
  explicit stream(const char* name) : name_(name) {}
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  void write(const T& value) { fifo_.push_back(value); }
  T read() {
    if (fifo_.empty()) {
      std::fprintf(stderr, "csim: read from empty hls::stream '%s' (deadlock in hardware)\n",
                   name_.c_str());
      std::abort();
    }
    T value = fifo_.front();
    fifo_.pop_front();
    return value;
  }
  void read(T& value) { value = read(); }
  bool read_nb(T& value) {
    if (fifo_.empty()) return false;
    value = read();
    return true;
  }
  bool write_nb(const T& value) {
    write(value);
    return true;
  }
  bool empty() const { return fifo_.empty(); }
  bool full() const { return false; }
  unsigned size() const { return static_cast<unsigned>(fifo_.size()); }
  void operator<<(const T& value) { write(value); }
  void operator>>(T& value) { read(value); }

 private:
  std::string name_;
  std::deque<T> fifo_;
};

}  // namespace hls

#endif
