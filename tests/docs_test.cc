// Every model example in the docs loads: each ```textproto block of README.md
// and docs/*.md is loaded as a model and must have no problems.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "leadscore/model.h"

namespace leadscore {
namespace {

struct Block {
  std::string file;
  int line;
  std::string text;
};

std::vector<Block> TextprotoBlocks(const std::string& path) {
  std::vector<Block> blocks;
  std::ifstream in(path);
  std::string line;
  int n = 0;
  bool inside = false;
  Block cur;
  while (std::getline(in, line)) {
    ++n;
    if (!inside && line.rfind("```textproto", 0) == 0) {
      inside = true;
      cur = Block{path, n + 1, ""};
    } else if (inside && line.rfind("```", 0) == 0) {
      inside = false;
      blocks.push_back(cur);
    } else if (inside) {
      cur.text += line + "\n";
    }
  }
  return blocks;
}

TEST(DocsTest, EveryModelExampleInTheDocsLoads) {
  namespace fs = std::filesystem;
  std::vector<std::string> files{std::string(LEADSCORE_SOURCE_DIR) + "/README.md"};
  for (const auto& e : fs::directory_iterator(std::string(LEADSCORE_SOURCE_DIR) + "/docs")) {
    if (e.path().extension() == ".md") files.push_back(e.path().string());
  }
  int loaded = 0;
  for (const auto& f : files) {
    for (const Block& b : TextprotoBlocks(f)) {
      auto model = Model::LoadText(b.text, b.file + " (block at line " +
                                               std::to_string(b.line) + ")");
      EXPECT_TRUE(model.ok()) << model.status();
      ++loaded;
    }
  }
  // docs/model.md and docs/conditions.md hold at least one model each.
  EXPECT_GE(loaded, 2);
}

}  // namespace
}  // namespace leadscore
