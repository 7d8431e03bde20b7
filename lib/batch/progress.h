// Progress of a batch run on stderr: on a terminal one line rewritten in
// place ("\r", then the line, then "erase to the end of the line"); else a
// plain line every `interval` seconds. Counters are atomics that the
// reading and scoring threads bump; a thread of its own prints.
#ifndef LEADSCORE_LIB_BATCH_PROGRESS_H_
#define LEADSCORE_LIB_BATCH_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace leadscore::batch {

class Progress {
 public:
  // `out`: where to print (stderr). `in_place`: rewrite one line (a
  // terminal) rather than print a line every `interval_seconds`.
  Progress(std::FILE* out, bool in_place, double interval_seconds);
  ~Progress();  // Stop()s
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Starts the printing thread; `total_bytes`: the size of the inputs on
  // disk (0: unknown).
  void Start(int64_t total_bytes);
  // Stops printing and, in place, erases the line.
  void Stop();

  void AddBytes(int64_t n) { bytes_.fetch_add(n, std::memory_order_relaxed); }
  std::atomic<int64_t>* bytes_counter() { return &bytes_; }
  void AddRows(int64_t n) { rows_.fetch_add(n, std::memory_order_relaxed); }
  // Scoring `rows` rows begins; AddScored counts those done.
  void StartScoring(int64_t rows);
  void AddScored(int64_t rows) { scored_.fetch_add(rows, std::memory_order_relaxed); }

  // Other output to the same stream: erase the progress line first and keep
  // it off while the lock is held.
  void Suspend();
  void Resume();

  // The line as it would be printed now (tests).
  std::string Line() const;

 private:
  void Run();

  std::FILE* out_;
  const bool in_place_;
  const std::chrono::duration<double> interval_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point scoring_start_;
  std::atomic<int64_t> total_bytes_{0};
  std::atomic<int64_t> bytes_{0};
  std::atomic<int64_t> rows_{0};
  std::atomic<bool> scoring_{false};
  std::atomic<int64_t> scoring_total_{0};
  std::atomic<int64_t> scored_{0};

  std::mutex mu_;  // printing
  std::condition_variable cv_;
  bool stop_ = false;
  bool shown_ = false;  // in place: a line is on the screen
  std::thread thread_;
};

}  // namespace leadscore::batch

#endif  // LEADSCORE_LIB_BATCH_PROGRESS_H_
