// SPDX-License-Identifier: BSD-3-Clause
// Copyright (c) 2026 the pynq_bnn developers
// Minimal hls::stream for g++ C simulation only (Vitis HLS uses its own header). Two modes:
//
// * default (sequential csim): unbounded FIFO; the processes of the DATAFLOW top run one after
//   the other, so reading an empty stream is a deadlock in hardware: csim aborts with its name.
// * PYNQ_BNN_BOUNDED_FIFOS (dataflow csim, csim/bnn_top_dataflow.cpp): every process is a
//   thread and a stream is a FIFO of its declared depth (constructor argument; 0 = unbounded, the
//   testbench's AXI ports): write blocks while full, read while empty, as in hardware. When every
//   process thread is blocked the design is deadlocked: the blocked streams are printed
//   ("csim dataflow deadlock: ...") and the program exits with status 7. Each stream records its
//   peak occupancy, appended at destruction to the file named by $PYNQ_BNN_FIFO_REPORT as
//   "<name> <depth> <peak>" lines. $PYNQ_BNN_FIFO_DEPTHS="name=depth,..." overrides the declared
//   depth of named streams at run time (no recompilation to try other depths).
#ifndef PYNQ_BNN_CSIM_HLS_STREAM_H
#define PYNQ_BNN_CSIM_HLS_STREAM_H

#include <ap_int.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

#ifdef PYNQ_BNN_BOUNDED_FIFOS
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>
#endif

#ifdef PYNQ_BNN_BOUNDED_FIFOS
namespace pynq_bnn_csim {

// State shared by all streams and process threads of the dataflow csim (one global lock: the
// deadlock test needs a consistent view of every thread).
class Scheduler {
 public:
  struct Waiter {
    std::string what;  // "read <name> (empty)" / "write <name> (full d/d)"
    std::function<bool()> ready;
  };
  static Scheduler& get() {
    static Scheduler instance;
    return instance;
  }
  std::mutex lock;
  unsigned live = 0;                       // process threads started and not finished
  std::map<const void*, Waiter> waiting;   // threads inside a blocking read/write

  // Called with `lock` held: deadlock when every live process waits on a stream whose state
  // cannot let it go on (a notified waiter that has not woken up yet does not count).
  void check_deadlock() {
    unsigned stuck = 0;
    for (const auto& w : waiting) stuck += w.second.ready() ? 0 : 1;
    if (live > 0 && stuck >= live) {
      std::fprintf(stderr, "csim dataflow deadlock: all %u processes blocked:", live);
      for (const auto& w : waiting) std::fprintf(stderr, " [%s]", w.second.what.c_str());
      std::fprintf(stderr, "\n");
      std::fflush(stderr);
      std::_Exit(7);
    }
  }
};

// The processes of one call of the top function: started together, joined together.
class Dataflow {
 public:
  void spawn(std::function<void()> process) { processes_.push_back(process); }
  void run() {
    Scheduler& s = Scheduler::get();
    {
      std::lock_guard<std::mutex> guard(s.lock);
      s.live += static_cast<unsigned>(processes_.size());
    }
    std::vector<std::thread> threads;
    for (auto& process : processes_) {
      threads.emplace_back([process, &s]() {
        process();
        std::lock_guard<std::mutex> guard(s.lock);
        s.live--;
        s.check_deadlock();  // the others may now wait forever
      });
    }
    for (auto& t : threads) t.join();
    processes_.clear();
  }

 private:
  std::vector<std::function<void()> > processes_;
};

}  // namespace pynq_bnn_csim
#endif

namespace hls {

template <typename T>
class stream {
  // A word wider than AP_INT_MAX_W at the first ap_int.h include fails as in Vitis.
  static_assert(pynq_bnn_csim::CheckWidth<pynq_bnn_csim::WordBits<T>::value>::ok, "stream word");

 public:
  stream() : name_("unnamed"), depth_(0) {}
  explicit stream(const char* name, unsigned depth = 0) : name_(name), depth_(depth) {
#ifdef PYNQ_BNN_BOUNDED_FIFOS
    depth_ = override_depth(name_, depth_);
#endif
  }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

#ifndef PYNQ_BNN_BOUNDED_FIFOS
  void write(const T& value) {
    fifo_.push_back(value);
    if (fifo_.size() > peak_) peak_ = fifo_.size();
  }
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
  bool empty() const { return fifo_.empty(); }
  bool full() const { return false; }
  unsigned size() const { return static_cast<unsigned>(fifo_.size()); }
#else
  ~stream() { report(); }
  void write(const T& value) {
    pynq_bnn_csim::Scheduler& s = pynq_bnn_csim::Scheduler::get();
    std::unique_lock<std::mutex> guard(s.lock);
    if (depth_ && fifo_.size() >= depth_) {
      const std::string what = "write " + name_ + " (full " + std::to_string(depth_) + "/" +
                               std::to_string(depth_) + ")";
      wait(s, guard, what, not_full_, [this]() { return fifo_.size() < depth_; });
    }
    fifo_.push_back(value);
    if (fifo_.size() > peak_) peak_ = fifo_.size();
    not_empty_.notify_all();
  }
  T read() {
    pynq_bnn_csim::Scheduler& s = pynq_bnn_csim::Scheduler::get();
    std::unique_lock<std::mutex> guard(s.lock);
    if (fifo_.empty()) {
      wait(s, guard, "read " + name_ + " (empty)", not_empty_, [this]() { return !fifo_.empty(); });
    }
    T value = fifo_.front();
    fifo_.pop_front();
    not_full_.notify_all();
    return value;
  }
  bool empty() {
    std::lock_guard<std::mutex> guard(pynq_bnn_csim::Scheduler::get().lock);
    return fifo_.empty();
  }
  unsigned size() {
    std::lock_guard<std::mutex> guard(pynq_bnn_csim::Scheduler::get().lock);
    return static_cast<unsigned>(fifo_.size());
  }
  bool full() {
    std::lock_guard<std::mutex> guard(pynq_bnn_csim::Scheduler::get().lock);
    return depth_ != 0 && fifo_.size() >= depth_;
  }
#endif
  void read(T& value) { value = read(); }
  bool read_nb(T& value) {
    if (empty()) return false;
    value = read();
    return true;
  }
  bool write_nb(const T& value) {
    if (full()) return false;
    write(value);
    return true;
  }
  void operator<<(const T& value) { write(value); }
  void operator>>(T& value) { read(value); }

 private:
#ifdef PYNQ_BNN_BOUNDED_FIFOS
  static unsigned override_depth(const std::string& name, unsigned depth) {
    const char* env = std::getenv("PYNQ_BNN_FIFO_DEPTHS");
    if (!env || depth == 0) return depth;
    const std::string all = std::string(",") + env + ",";
    const std::size_t at = all.find("," + name + "=");
    if (at == std::string::npos) return depth;
    return static_cast<unsigned>(std::strtoul(all.c_str() + at + name.size() + 2, nullptr, 10));
  }
  template <class Ready>
  void wait(pynq_bnn_csim::Scheduler& s, std::unique_lock<std::mutex>& guard,
            const std::string& what, std::condition_variable& cv, Ready ready) {
    const int token = 0;
    s.waiting[&token] = pynq_bnn_csim::Scheduler::Waiter{what, ready};
    s.check_deadlock();
    cv.wait(guard, ready);
    s.waiting.erase(&token);
  }
  void report() const {
    const char* path = std::getenv("PYNQ_BNN_FIFO_REPORT");
    if (!path || !*path) return;
    std::lock_guard<std::mutex> guard(pynq_bnn_csim::Scheduler::get().lock);
    std::FILE* file = std::fopen(path, "a");
    if (!file) return;
    std::fprintf(file, "%s %u %zu\n", name_.c_str(), depth_, peak_);
    std::fclose(file);
  }
  std::condition_variable not_empty_, not_full_;
#endif
  std::string name_;
  unsigned depth_;
  std::size_t peak_ = 0;
  std::deque<T> fifo_;
};

}  // namespace hls

#endif
