// Crash safety of snapshots: a process that keeps saving is killed with
// SIGKILL at random moments, 200 times; every restore must give the snapshot
// before the kill or the one being written, whole, never a broken file.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "leadscore/model.h"
#include "leadscore/store.h"

namespace leadscore {
namespace {

constexpr char kModel[] = R"pb(
  name: "crash"
  score { name: "e" half_life: "7d" }
  counter { name: "n" on: "*" }
  rule { name: "any" on: "*" score: "e" points: 1 }
  tag { name: "busy" when: "counter.n >= 50" }
)pb";

// The child: restores the snapshot if there is one, then applies one event
// and saves, again and again, reporting each completed save's event count.
[[noreturn]] void WriteForever(std::shared_ptr<const Model> model,
                               const std::string& path, int report_fd) {
  std::unique_ptr<Store> store;
  if (std::filesystem::exists(path)) {
    auto loaded = Store::LoadSnapshot(model, path);
    if (!loaded.ok()) _exit(3);
    store = std::move(*loaded);
  } else {
    store = std::make_unique<Store>(model);
  }
  for (int64_t i = store->stats().events_applied;; ++i) {
    std::string id = "e" + std::to_string(i);
    std::string member = "m" + std::to_string(i % 97);
    Event e;
    e.event_id = id;
    e.member_id = member;
    e.has_time = true;
    e.time = 1767225600000 + i * 60000;
    e.type = "post";
    store->Apply(e, nullptr);
    if (!store->SaveSnapshot(path).ok()) _exit(4);
    int64_t saved = store->stats().events_applied;
    if (write(report_fd, &saved, sizeof saved) != sizeof saved) _exit(5);
  }
}

TEST(CrashSafetyTest, KilledWriterAlwaysLeavesTheOldOrTheNewSnapshotWhole) {
  auto model = Model::LoadText(kModel);
  ASSERT_TRUE(model.ok()) << model.status();
  std::string dir = ::testing::TempDir() + "/crash_safety_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/store.snap";
  std::mt19937_64 rng(20261124);
  int64_t last_saved = 0;  // events in the last snapshot known to be complete
  int kills_mid_run = 0;
  for (int iteration = 0; iteration < 200; ++iteration) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      WriteForever(*model, path, fds[1]);
    }
    close(fds[1]);
    // Kill at a random moment: from at once to 30 ms in.
    usleep(static_cast<useconds_t>(rng() % 30000));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer stopped by itself, status " << status;
    int64_t saved;
    while (read(fds[0], &saved, sizeof saved) == sizeof saved) {
      last_saved = saved;
      ++kills_mid_run;
    }
    close(fds[0]);
    if (!std::filesystem::exists(path)) {
      ASSERT_EQ(last_saved, 0) << "a completed save left no file";
      continue;
    }
    auto restored = Store::LoadSnapshot(*model, path);
    ASSERT_TRUE(restored.ok()) << "iteration " << iteration << ": " << restored.status();
    int64_t applied = (*restored)->stats().events_applied;
    // The save in flight at the kill may or may not have been renamed in.
    EXPECT_TRUE(applied == last_saved || applied == last_saved + 1)
        << "iteration " << iteration << ": restored " << applied
        << " events, last completed save had " << last_saved;
    last_saved = applied;
  }
  // The writer did get work done between kills (the test is not vacuous).
  EXPECT_GT(last_saved, 50);
  EXPECT_GT(kills_mid_run, 50);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace leadscore
