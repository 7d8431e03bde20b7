// Loading and checking models: the fixture loads as text and JSON; every
// mistake is reported at once, each at its file:line:col.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "leadscore/model.h"
#include "leadscore/v1/model.pb.h"

namespace leadscore {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kFixture =
    std::string(LEADSCORE_SHARED_DIR) + "/examples/community.textproto";

// The 1-based column of `needle` on 1-based line `line` of `text`.
int Col(const std::string& text, int line, const std::string& needle) {
  std::istringstream in(text);
  std::string l;
  for (int i = 1; i <= line; ++i) std::getline(in, l);
  size_t at = l.find(needle);
  EXPECT_NE(at, std::string::npos) << "no '" << needle << "' on line " << line;
  return static_cast<int>(at) + 1;
}

std::vector<Diagnostic> Problems(const std::string& text) {
  std::vector<Diagnostic> diags;
  auto model = Model::LoadText(text, "bad.textproto", &diags);
  EXPECT_FALSE(model.ok());
  return diags;
}

bool HasDiag(const std::vector<Diagnostic>& diags, int line, int col,
             const std::string& fragment) {
  for (const auto& d : diags) {
    if (d.line == line && d.column == col &&
        d.message.find(fragment) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string Dump(const std::vector<Diagnostic>& diags) {
  std::string out;
  for (const auto& d : diags) out += d.ToString() + "\n";
  return out;
}

TEST(ModelLoadTest, FixtureLoadsAsText) {
  auto model = Model::LoadFile(kFixture);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->name(), "b2b-community");
  EXPECT_EQ((*model)->num_scores(), 3);
  EXPECT_EQ((*model)->num_stages(), 8);
  EXPECT_EQ((*model)->num_flags(), 1);
  // 15 event rules and 4 fit rules.
  EXPECT_EQ((*model)->num_contributors(), 19);
  EXPECT_EQ((*model)->allowed_lateness_ms(), 7 * 86400000LL);
}

TEST(ModelLoadTest, FixtureLoadsAsJson) {
  v1::Model proto;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(ReadFile(kFixture), &proto));
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(proto, &json, opts).ok());
  auto model = Model::LoadJson(json, "community.json");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->num_contributors(), 19);
  EXPECT_EQ((*model)->FindStage("mql"), 3);
}

TEST(ModelLoadTest, BundledJsonExampleLoads) {
  auto model = Model::LoadFile(std::string(LEADSCORE_SOURCE_DIR) +
                               "/examples/models/community.json");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->name(), "b2b-community");
}

TEST(ModelLoadTest, MissingFileIsNotFound) {
  auto model = Model::LoadFile("/nonexistent/model.textproto");
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
}

TEST(ModelLoadTest, SyntaxErrorHasLineAndColumn) {
  // Line 2 lacks the closing brace's partner: "score {" then a bad token.
  std::string text = "name: \"x\"\nscore { name: \"a\" half_life: 30d }\n";
  auto diags = Problems(text);
  ASSERT_FALSE(diags.empty());
  EXPECT_EQ(diags[0].line, 2);
  EXPECT_GT(diags[0].column, 1);
}

// Ten different mistakes, all reported in one load, each at its place.
TEST(ModelCheckTest, TenMistakesAreAllReportedWithPositions) {
  const std::string text =
      "name: \"bad\"\n"                                                        // 1
      "allowed_lateness: \"7x\"\n"                                             // 2
      "score { name: \"engagement\" half_life: \"30d\" }\n"                    // 3
      "score { name: \"engagement\" }\n"                                       // 4
      "score { name: \"fit\" }\n"                                              // 5
      "score { name: \"lead\" formula: \"score.lead + score.fit\" }\n"         // 6
      "rule { name: \"r1\" on: \"a\" score: \"engagment\" points: 1 }\n"       // 7
      "rule { name: \"r2\" on: \"b\" score: \"engagement\" points: -5 cap { max_points: 5 } }\n"  // 8
      "fit { name: \"f1\" when: \"member.role == 'dm'\" score: \"engagement\" points: 5 }\n"      // 9
      "rule { name: \"r3\" on: \"c\" score: \"fit\" points: 1 }\n"             // 10
      "fit { name: \"f2\" when: \"has(member.x)\" score: \"fit\" points: 5 }\n"  // 11
      "tag { name: \"t1\" when: \"counter.postz >= 1\" }\n"                    // 12
      "tag { name: \"t1\" on: \"d\" }\n"                                       // 13
      "lifecycle { initial: \"new\" stage: [\"new\", \"active\"]\n"            // 14
      "  transition { from: \"new\" to: \"actve\" when: \"true\" } }\n"        // 15
      "flag { name: \"f\" when: \"'vip' in tags\" }\n";                        // 16
  auto diags = Problems(text);
  SCOPED_TRACE(Dump(diags));
  // 1. malformed duration: at the value's first character.
  EXPECT_TRUE(HasDiag(diags, 2, Col(text, 2, "7x"), "malformed duration"));
  // 2. duplicate score name: at the second `name`.
  EXPECT_TRUE(HasDiag(diags, 4, Col(text, 4, "name"), "duplicate score name"));
  // 3. derived scores in a cycle: at `formula`.
  EXPECT_TRUE(HasDiag(diags, 6, Col(text, 6, "formula"), "cycle"));
  // 4. unknown score, with a suggestion.
  EXPECT_TRUE(HasDiag(diags, 7, Col(text, 7, "engagment"), "did you mean 'engagement'"));
  // 5. a cap on a rule with negative points: at `cap`.
  EXPECT_TRUE(HasDiag(diags, 8, Col(text, 8, "cap"), "caps are for rules with positive points"));
  // 6. a fit rule on a decaying score.
  EXPECT_TRUE(HasDiag(diags, 9, Col(text, 9, "engagement"), "decaying score"));
  // 7. an event rule on a fit score.
  EXPECT_TRUE(HasDiag(diags, 10, Col(text, 10, "fit\" points") , "fit score takes no event rules"));
  // 8. unknown counter, at the token inside the condition.
  EXPECT_TRUE(HasDiag(diags, 12, Col(text, 12, "postz"), "postz"));
  // 9. one name as a state tag and an event tag.
  EXPECT_TRUE(HasDiag(diags, 13, Col(text, 13, "name"), "both as a state tag"));
  // 10. a transition to an unknown stage.
  EXPECT_TRUE(HasDiag(diags, 15, Col(text, 15, "actve"), "unknown stage 'actve'"));
  // 11. an unknown tag inside a flag's condition.
  EXPECT_TRUE(HasDiag(diags, 16, Col(text, 16, "'vip'"), "vip"));
  EXPECT_GE(diags.size(), 11u);
}

TEST(ModelCheckTest, TypeErrorInConditionPointsAtTheOperator) {
  const std::string text =
      "score { name: \"s\" }\n"
      "tag { name: \"t\" when: \"score.s >= 'high'\" }\n";
  auto diags = Problems(text);
  SCOPED_TRACE(Dump(diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 2);
  int when_at = Col(text, 2, "score.s");
  EXPECT_GE(diags[0].column, when_at);
  EXPECT_LE(diags[0].column, Col(text, 2, "'high'"));
}

TEST(ModelCheckTest, EventNamesAreNotAllowedInStateTags) {
  const std::string text = "tag { name: \"t\" when: \"event.value > 1\" }\n";
  auto diags = Problems(text);
  SCOPED_TRACE(Dump(diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].column, Col(text, 1, "event.value"));
}

TEST(ModelCheckTest, FitConditionsMayReadOnlyMemberAttributes) {
  const std::string text =
      "score { name: \"fit\" }\n"
      "counter { name: \"c\" on: \"x\" }\n"
      "fit { name: \"f\" when: \"counter.c > 1\" score: \"fit\" points: 1 }\n";
  auto diags = Problems(text);
  SCOPED_TRACE(Dump(diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 3);
  EXPECT_EQ(diags[0].column, Col(text, 3, "counter.c"));
}

TEST(ModelCheckTest, BadEventPatternIsReportedAtTheStar) {
  const std::string text =
      "score { name: \"s\" }\n"
      "rule { name: \"r\" on: \"content*\" score: \"s\" points: 1 }\n";
  auto diags = Problems(text);
  SCOPED_TRACE(Dump(diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].column, Col(text, 2, "*"));
}

TEST(ModelCheckTest, TtlOnStateTagIsAnError) {
  auto diags = Problems("tag { name: \"t\" when: \"true\" ttl: \"1d\" }\n");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_THAT(diags[0].message, HasSubstr("cannot have a ttl"));
}

TEST(ModelCheckTest, DuplicateRuleNamesAcrossEventAndFitRules) {
  auto diags = Problems(
      "score { name: \"e\" }\nscore { name: \"f\" }\n"
      "rule { name: \"x\" on: \"a\" score: \"e\" points: 1 }\n"
      "fit { name: \"x\" when: \"has(member.k)\" score: \"f\" points: 1 }\n");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 4);
  EXPECT_THAT(diags[0].message, HasSubstr("duplicate rule name 'x'"));
}

TEST(ModelCheckTest, TransitionWithoutTriggerIsAnError) {
  auto diags = Problems(
      "lifecycle { stage: [\"a\", \"b\"] transition { from: \"a\" to: \"b\" } }\n");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_THAT(diags[0].message, HasSubstr("needs a trigger"));
}

TEST(ModelCheckTest, UnknownStageInFromListPointsAtTheElement) {
  const std::string text =
      "lifecycle { stage: [\"a\", \"b\"]\n"
      "  transition { from: [\"a\", \"zz\"] to: \"b\" when: \"true\" } }\n";
  auto diags = Problems(text);
  SCOPED_TRACE(Dump(diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 2);
  EXPECT_EQ(diags[0].column, Col(text, 2, "zz"));
}

TEST(ModelCheckTest, JsonModelProblemsHavePositions) {
  const std::string json =
      "{\n"
      "  \"score\": [{\"name\": \"e\", \"halfLife\": \"3q\"}],\n"
      "  \"rule\": [{\"name\": \"r\", \"on\": \"a\", \"score\": \"nope\", \"points\": 1}]\n"
      "}\n";
  std::vector<Diagnostic> diags;
  auto model = Model::LoadJson(json, "m.json", &diags);
  ASSERT_FALSE(model.ok());
  SCOPED_TRACE(Dump(diags));
  EXPECT_TRUE(HasDiag(diags, 2, Col(json, 2, "3q"), "malformed duration"));
  EXPECT_TRUE(HasDiag(diags, 3, Col(json, 3, "nope"), "unknown score 'nope'"));
}

TEST(ModelCheckTest, StatusMessageListsEveryProblem) {
  auto model = Model::LoadText(
      "score { name: \"s\" half_life: \"x\" }\nrule { name: \"r\" on: \"a\" score: \"t\" points: 1 }\n",
      "two.textproto");
  ASSERT_FALSE(model.ok());
  std::string msg(model.status().message());
  EXPECT_THAT(msg, HasSubstr("two.textproto:1:"));
  EXPECT_THAT(msg, HasSubstr("two.textproto:2:"));
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ModelCheckTest, DerivedScoreCannotTakeRules) {
  auto diags = Problems(
      "score { name: \"a\" }\nscore { name: \"d\" formula: \"score.a * 2\" }\n"
      "rule { name: \"r\" on: \"x\" score: \"d\" points: 1 }\n");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_THAT(diags[0].message, HasSubstr("derived score takes no rules"));
}

}  // namespace
}  // namespace leadscore
