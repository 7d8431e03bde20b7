// The progress line.
#include "lib/batch/progress.h"

#include <cinttypes>

#include "absl/strings/str_format.h"

namespace leadscore::batch {

namespace {

std::string Clock(double seconds) {
  if (seconds < 0) seconds = 0;
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) {
    return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  }
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

std::string Count(int64_t n) {
  if (n >= 10000000) return absl::StrFormat("%.1fM", n / 1e6);
  if (n >= 10000) return absl::StrFormat("%.0fk", n / 1e3);
  return absl::StrFormat("%d", n);
}

}  // namespace

Progress::Progress(std::FILE* out, bool in_place, double interval_seconds)
    : out_(out),
      in_place_(in_place),
      interval_(interval_seconds > 0 ? interval_seconds : 0.2) {}

Progress::~Progress() { Stop(); }

void Progress::Start(int64_t total_bytes) {
  total_bytes_ = total_bytes;
  start_ = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Progress::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (in_place_ && shown_) {
    std::fputs("\r\x1b[K", out_);
    std::fflush(out_);
    shown_ = false;
  }
}

void Progress::StartScoring(int64_t rows) {
  scoring_total_ = rows;
  scored_ = 0;
  scoring_start_ = std::chrono::steady_clock::now();
  scoring_ = true;
}

void Progress::Suspend() {
  mu_.lock();
  if (in_place_ && shown_) {
    std::fputs("\r\x1b[K", out_);
    std::fflush(out_);
    shown_ = false;
  }
}

void Progress::Resume() { mu_.unlock(); }

std::string Progress::Line() const {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const int64_t rows = rows_.load(std::memory_order_relaxed);
  const int64_t bytes = bytes_.load(std::memory_order_relaxed);
  const int64_t total = total_bytes_.load(std::memory_order_relaxed);
  const double rate = elapsed > 0 ? rows / elapsed : 0;
  const double mbps = elapsed > 0 ? bytes / 1e6 / elapsed : 0;
  std::string line;
  if (!scoring_.load()) {
    line = absl::StrFormat("leadscore score: reading %.1f", bytes / 1e6);
    if (total > 0) absl::StrAppendFormat(&line, "/%.1f", total / 1e6);
    absl::StrAppendFormat(&line, " MB, %s rows, %s events/s, %.0f MB/s, %s elapsed",
                          Count(rows), Count(static_cast<int64_t>(rate)), mbps,
                          Clock(elapsed));
    if (total > 0 && bytes > 0 && bytes < total) {
      absl::StrAppendFormat(&line, ", ETA %s",
                            Clock(elapsed * (total - bytes) / bytes));
    }
  } else {
    const int64_t done = scored_.load(std::memory_order_relaxed);
    const int64_t all = scoring_total_.load(std::memory_order_relaxed);
    const double scoring =
        std::chrono::duration<double>(now - scoring_start_).count();
    const double score_rate = scoring > 0 ? done / scoring : 0;
    line = absl::StrFormat(
        "leadscore score: scoring %s/%s rows, %s rows/s, %s elapsed", Count(done),
        Count(all), Count(static_cast<int64_t>(score_rate)), Clock(elapsed));
    if (done > 0 && done < all) {
      absl::StrAppendFormat(&line, ", ETA %s", Clock(scoring * (all - done) / done));
    }
  }
  return line;
}

void Progress::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  // In place: the first line after a short delay, so that quick runs print
  // nothing; then every 200 ms. Plain lines: every interval.
  auto wait = in_place_ ? std::chrono::duration<double>(0.3) : interval_;
  for (;;) {
    if (cv_.wait_for(lock, wait, [this] { return stop_; })) return;
    const std::string line = Line();
    if (in_place_) {
      std::fprintf(out_, "\r%s\x1b[K", line.c_str());
      shown_ = true;
      wait = std::chrono::duration<double>(0.2);
    } else {
      std::fprintf(out_, "%s\n", line.c_str());
    }
    std::fflush(out_);
  }
}

}  // namespace leadscore::batch
