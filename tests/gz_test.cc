// Inputs: gzip read transparently (one or several members, truncated data
// reported), files mapped, formats told by name, glob patterns expanded.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/io/input.h"

namespace leadscore::io {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Text(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "line " + std::to_string(i) + ",a,b,c\n";
  return s;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

TEST(GzTest, GzipRoundTrip) {
  const std::string text = Text(10000);
  const std::string gz = Gzip(text);
  EXPECT_TRUE(LooksGzipped(gz));
  EXPECT_LT(gz.size(), text.size() / 3);
  auto back = Gunzip(gz, "x.gz");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, text);
}

TEST(GzTest, SeveralMembersAreOneStream) {
  auto back = Gunzip(Gzip("first\n") + Gzip("second\n"), "x.gz");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "first\nsecond\n");
}

TEST(GzTest, TruncatedGzipIsAnError) {
  const std::string gz = Gzip(Text(1000));
  auto back = Gunzip(gz.substr(0, gz.size() / 2), "log.csv.gz");
  ASSERT_FALSE(back.ok());
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("log.csv.gz: truncated gzip data"));
}

TEST(GzTest, GarbageAfterTheDataIsAnError) {
  auto back = Gunzip(Gzip("a\n") + "junk", "log.gz");
  ASSERT_FALSE(back.ok());
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("unexpected bytes"));
}

TEST(GzTest, CorruptGzipIsAnError) {
  std::string gz = Gzip(Text(1000));
  for (size_t i = 20; i < 60; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  EXPECT_FALSE(Gunzip(gz, "log.gz").ok());
}

TEST(GzTest, InputBytesInflatesWhateverTheName) {
  const std::string dir = ::testing::TempDir();
  const std::string text = Text(5000);
  WriteFile(dir + "/gz_test_plain.csv", text);
  WriteFile(dir + "/gz_test_packed.csv", Gzip(text));  // no .gz in the name
  auto plain = InputBytes::Open(dir + "/gz_test_plain.csv");
  auto packed = InputBytes::Open(dir + "/gz_test_packed.csv");
  ASSERT_TRUE(plain.ok() && packed.ok());
  EXPECT_EQ((*plain)->data(), text);
  EXPECT_EQ((*packed)->data(), text);
  EXPECT_FALSE((*plain)->compressed());
  EXPECT_TRUE((*packed)->compressed());
  // Given back pages read as zeros or the file again, never fault.
  (*packed)->Release(0, text.size() / 2);
  (*plain)->Release(0, text.size() / 2);
  EXPECT_EQ((*plain)->data().substr(text.size() / 2), text.substr(text.size() / 2));
  EXPECT_EQ((*packed)->data().substr(text.size() - 100), text.substr(text.size() - 100));
  std::remove((dir + "/gz_test_plain.csv").c_str());
  std::remove((dir + "/gz_test_packed.csv").c_str());
}

TEST(GzTest, EmptyAndMissingFiles) {
  const std::string path = ::testing::TempDir() + "/gz_test_empty.csv";
  WriteFile(path, "");
  auto empty = InputBytes::Open(path);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->data(), "");
  std::remove(path.c_str());
  auto missing = InputBytes::Open("/nonexistent/log.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/log.csv"));
}

TEST(GzTest, FormatByName) {
  EXPECT_EQ(FormatFromPath("a.csv"), LogFormat::kCsv);
  EXPECT_EQ(FormatFromPath("a.csv.gz"), LogFormat::kCsv);
  EXPECT_EQ(FormatFromPath("a.jsonl"), LogFormat::kJsonl);
  EXPECT_EQ(FormatFromPath("a.NDJSON.GZ"), LogFormat::kJsonl);
  EXPECT_EQ(FormatFromPath("a.pb"), LogFormat::kPb);
  EXPECT_EQ(FormatFromPath("a.binpb.gz"), LogFormat::kPb);
  EXPECT_EQ(FormatFromPath("export.txt"), LogFormat::kCsv);
  LogFormat f;
  EXPECT_TRUE(ParseLogFormat("jsonl", &f));
  EXPECT_EQ(f, LogFormat::kJsonl);
  EXPECT_FALSE(ParseLogFormat("xml", &f));
}

TEST(GzTest, GlobPatternsExpandSortedAndPlainPathsStay) {
  const std::string dir = ::testing::TempDir() + "/gz_test_glob";
  mkdir(dir.c_str(), 0755);
  for (const char* name : {"b.csv", "a.csv", "c.jsonl"}) WriteFile(dir + "/" + name, "x");
  auto paths = ExpandEventPaths({dir + "/*.csv", dir + "/c.jsonl", "missing.csv"});
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_THAT(*paths, ElementsAre(dir + "/a.csv", dir + "/b.csv", dir + "/c.jsonl",
                                  "missing.csv"));
  auto none = ExpandEventPaths({dir + "/*.pb"});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("no file matches"));
  for (const char* name : {"b.csv", "a.csv", "c.jsonl"}) {
    std::remove((dir + "/" + name).c_str());
  }
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace leadscore::io
