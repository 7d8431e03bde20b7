// The bad-input catalogue (tests/data/bad/models): each malformed model must
// produce exactly the diagnostics in its .expected file, one per line.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "leadscore/model.h"

namespace leadscore {
namespace {

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(BadInputTest, EveryBadModelGivesItsExactDiagnostics) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(LEADSCORE_SOURCE_DIR) / "tests/data/bad/models";
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".textproto") continue;
    ++cases;
    std::string name = entry.path().filename().string();
    std::vector<Diagnostic> diags;
    auto model = Model::LoadText(Slurp(entry.path()), name, &diags);
    EXPECT_FALSE(model.ok()) << name << " loaded";
    std::string got;
    for (const auto& d : diags) got += d.ToString() + "\n";
    fs::path expected = entry.path();
    expected.replace_extension(".expected");
    EXPECT_EQ(got, Slurp(expected)) << name;
  }
  EXPECT_GE(cases, 8);
}

}  // namespace
}  // namespace leadscore
