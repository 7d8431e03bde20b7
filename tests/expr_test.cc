// Tests of the condition language (lib/expr): parsing, checking and
// evaluation against SEMANTICS.md section 7 and docs/semantics-notes.md 15-22.
#include "lib/expr/expr.h"

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadscore::expr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kDay = 24 * kHour;

int IndexOf(const std::vector<std::string>& names, std::string_view name) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

int Intern(std::vector<std::string>* keys, std::string_view key) {
  int i = IndexOf(*keys, key);
  if (i >= 0) return i;
  keys->emplace_back(key);
  return static_cast<int>(keys->size()) - 1;
}

// A model with scores engagement, fit, lead; counters posts, invites; tags
// vip, topic:tax, koc; stages new, active, mql, sql.
class FakeScope : public Scope {
 public:
  FakeScope() { allowed.event = true; }
  int ScoreIndex(std::string_view n) const override {
    return IndexOf(scores, n);
  }
  int CounterIndex(std::string_view n) const override {
    return IndexOf(counters, n);
  }
  int TagIndex(std::string_view n) const override { return IndexOf(tags, n); }
  int StageIndex(std::string_view n) const override {
    return IndexOf(stages, n);
  }
  bool HasLifecycle() const override { return lifecycle; }
  int TagCount() const override {
    return tag_count_known ? static_cast<int>(tags.size()) : -1;
  }
  int InternMemberAttr(std::string_view key) override {
    return Intern(&member_keys, key);
  }
  int InternEventAttr(std::string_view key) override {
    return Intern(&event_keys, key);
  }

  std::vector<std::string> scores = {"engagement", "fit", "lead"};
  std::vector<std::string> counters = {"posts", "invites"};
  std::vector<std::string> tags = {"vip", "topic:tax", "koc"};
  std::vector<std::string> stages = {"new", "active", "mql", "sql"};
  bool lifecycle = true;
  bool tag_count_known = true;
  std::vector<std::string> member_keys;
  std::vector<std::string> event_keys;
};

// Values for one member; attributes are looked up by the scope's key ids.
class FakeContext : public Context {
 public:
  explicit FakeContext(const FakeScope* scope) : scope_(scope) {}
  double Score(int i) const override {
    ++score_reads;
    return scores[static_cast<size_t>(i)];
  }
  int64_t Counter(int i) const override {
    return counters[static_cast<size_t>(i)];
  }
  bool HasTag(int i) const override { return tags.count(i) > 0; }
  int Stage() const override { return stage; }
  int64_t Now() const override { return now; }
  int64_t Idle() const override { return idle; }
  int64_t StageAge() const override { return stage_age; }
  bool MemberAttr(int id, std::string_view* value) const override {
    return Find(member, scope_->member_keys, id, value);
  }
  std::string_view EventType() const override { return event_type; }
  double EventValue() const override { return event_value; }
  std::string_view EventGroup() const override { return event_group; }
  std::string_view EventChannel() const override { return event_channel; }
  bool EventAttr(int id, std::string_view* value) const override {
    return Find(event_attrs, scope_->event_keys, id, value);
  }

  std::vector<double> scores = {0, 0, 0};
  std::vector<int64_t> counters = {0, 0};
  std::set<int> tags;
  int stage = 0;
  int64_t now = 1700000000000;
  int64_t idle = 0;
  int64_t stage_age = 0;
  std::map<std::string, std::string> member;
  std::string event_type;
  double event_value = 0;
  std::string event_group;
  std::string event_channel;
  std::map<std::string, std::string> event_attrs;
  mutable int score_reads = 0;

 private:
  static bool Find(const std::map<std::string, std::string>& values,
                   const std::vector<std::string>& keys, int id,
                   std::string_view* value) {
    auto it = values.find(keys.at(static_cast<size_t>(id)));
    if (it == values.end()) return false;
    *value = it->second;
    return true;
  }
  const FakeScope* scope_;
};

class ConditionTest : public ::testing::Test {
 protected:
  // Compiles `text` as a condition and evaluates it; a compile problem fails
  // the test.
  bool Holds(std::string_view text) {
    std::unique_ptr<Program> p = Compiled(text, Want::kBool);
    return p != nullptr && p->EvalBool(ctx_);
  }
  double Number(std::string_view text) {
    std::unique_ptr<Program> p = Compiled(text, Want::kNumber);
    return p == nullptr ? -12345 : p->EvalNumber(ctx_);
  }
  std::unique_ptr<Program> Compiled(std::string_view text, Want want) {
    std::vector<Problem> problems;
    std::unique_ptr<Program> p = Compile(text, want, scope_, &problems);
    for (const Problem& problem : problems) {
      ADD_FAILURE() << text << " @" << problem.offset << ": "
                    << problem.message;
    }
    EXPECT_NE(p, nullptr) << text;
    return p;
  }
  std::vector<Problem> Problems(std::string_view text,
                                Want want = Want::kBool) {
    std::vector<Problem> problems;
    std::unique_ptr<Program> p = Compile(text, want, scope_, &problems);
    EXPECT_EQ(p, nullptr) << text;
    return problems;
  }
  // The one problem of `text`: its offset, and its message for matching.
  Problem OnlyProblem(std::string_view text, Want want = Want::kBool) {
    std::vector<Problem> problems = Problems(text, want);
    EXPECT_EQ(problems.size(), 1u) << text;
    return problems.empty() ? Problem{-1, ""} : problems[0];
  }

  FakeScope scope_;
  FakeContext ctx_{&scope_};
};

using ConditionPrecedenceTest = ConditionTest;
using ConditionOperatorTest = ConditionTest;
using ConditionNumberTest = ConditionTest;
using ConditionAttributeTest = ConditionTest;
using ConditionMissingValueTest = ConditionTest;
using ConditionListTest = ConditionTest;
using ConditionTagTest = ConditionTest;
using ConditionStageTest = ConditionTest;
using ConditionTimeTest = ConditionTest;
using ConditionTextFunctionTest = ConditionTest;
using ConditionConversionTest = ConditionTest;
using ConditionProblemTest = ConditionTest;
using ConditionReadsTest = ConditionTest;

// ---------------------------------------------------------------------------
// Precedence

TEST_F(ConditionPrecedenceTest, AndBindsTighterThanOr) {
  // true || (false && false), not (true || false) && false.
  EXPECT_TRUE(Holds("true || false && false"));
}

TEST_F(ConditionPrecedenceTest, ComparisonBindsTighterThanAnd) {
  EXPECT_TRUE(Holds("1 < 2 && 3 < 4"));
}

TEST_F(ConditionPrecedenceTest, MultiplicationBindsTighterThanAddition) {
  EXPECT_TRUE(Holds("2 + 3 * 4 == 14"));
}

TEST_F(ConditionPrecedenceTest, ArithmeticBindsTighterThanComparison) {
  EXPECT_TRUE(Holds("1 + 1 == 2"));
}

TEST_F(ConditionPrecedenceTest, NotBindsTighterThanAnd) {
  // (!false) && false, not !(false && false).
  EXPECT_FALSE(Holds("!false && false"));
}

TEST_F(ConditionPrecedenceTest, UnaryMinusBindsTighterThanMultiplication) {
  EXPECT_EQ(Number("-counter.posts * 3"), 0);
  ctx_.counters[0] = 2;
  EXPECT_EQ(Number("-counter.posts * 3"), -6);
}

TEST_F(ConditionPrecedenceTest, ParenthesesOverridePrecedence) {
  EXPECT_TRUE(Holds("(2 + 3) * 4 == 20"));
}

TEST_F(ConditionPrecedenceTest, SubtractionAndDivisionAreLeftAssociative) {
  EXPECT_TRUE(Holds("10 - 4 - 3 == 3"));
  EXPECT_TRUE(Holds("100 / 10 / 5 == 2"));
}

TEST_F(ConditionPrecedenceTest, ConditionalHasTheLowestPrecedence) {
  // true ? 1 : (2 + 3), not (true ? 1 : 2) + 3.
  EXPECT_EQ(Number("true ? 1 : 2 + 3"), 1);
}

TEST_F(ConditionPrecedenceTest, ConditionalIsRightAssociative) {
  EXPECT_EQ(Number("false ? 1 : true ? 2 : 3"), 2);
}

// ---------------------------------------------------------------------------
// Operators

TEST_F(ConditionOperatorTest, RelationsCompareIntegers) {
  ctx_.counters[0] = 5;
  EXPECT_TRUE(Holds("counter.posts < 6"));
  EXPECT_FALSE(Holds("counter.posts < 5"));
  EXPECT_TRUE(Holds("counter.posts <= 5"));
  EXPECT_FALSE(Holds("counter.posts <= 4"));
  EXPECT_TRUE(Holds("counter.posts > 4"));
  EXPECT_FALSE(Holds("counter.posts > 5"));
  EXPECT_TRUE(Holds("counter.posts >= 5"));
  EXPECT_FALSE(Holds("counter.posts >= 6"));
  EXPECT_TRUE(Holds("counter.posts == 5"));
  EXPECT_TRUE(Holds("counter.posts != 4"));
}

TEST_F(ConditionOperatorTest, LiteralOnTheLeftComparesTheSameWay) {
  ctx_.scores[0] = 50;
  EXPECT_TRUE(Holds("40 < score.engagement"));
  EXPECT_FALSE(Holds("60 <= score.engagement"));
}

TEST_F(ConditionOperatorTest, RelationsCompareTextBytewise) {
  EXPECT_TRUE(Holds("'B' < 'a'"));
  EXPECT_TRUE(Holds("'abc' < 'abd'"));
  EXPECT_TRUE(Holds("'ab' < 'abc'"));
  EXPECT_TRUE(Holds("'x' != 'y'"));
}

TEST_F(ConditionOperatorTest, BooleansCompareWithEquality) {
  EXPECT_TRUE(Holds("(1 < 2) == true"));
  EXPECT_TRUE(Holds("false != (1 < 2)"));
}

TEST_F(ConditionOperatorTest, IntegerDivisionTruncatesTowardZero) {
  EXPECT_EQ(Number("7 / 2"), 3);
  EXPECT_EQ(Number("-7 / 2"), -3);
}

TEST_F(ConditionOperatorTest, ModuloKeepsTheSignOfTheDividend) {
  EXPECT_EQ(Number("7 % 3"), 1);
  EXPECT_EQ(Number("-7 % 3"), -1);
}

TEST_F(ConditionOperatorTest, NotNegates) {
  EXPECT_TRUE(Holds("!false"));
  EXPECT_FALSE(Holds("!!false"));
}

TEST_F(ConditionOperatorTest, OrStopsAtTheFirstTrueOperand) {
  EXPECT_TRUE(Holds("true || score.engagement > 0"));
  EXPECT_EQ(ctx_.score_reads, 0);
}

TEST_F(ConditionOperatorTest, AndStopsAtTheFirstFalseOperand) {
  EXPECT_FALSE(Holds("false && score.engagement > 0"));
  EXPECT_EQ(ctx_.score_reads, 0);
}

TEST_F(ConditionOperatorTest, ConditionalEvaluatesOnlyTheChosenBranch) {
  EXPECT_EQ(Number("1 > 0 ? 7 : score.engagement"), 7);
  EXPECT_EQ(ctx_.score_reads, 0);
}

TEST_F(ConditionOperatorTest, ConditionalChoosesTheElseBranch) {
  ctx_.scores[1] = 2.5;
  EXPECT_EQ(Number("1 < 0 ? 7 : score.fit"), 2.5);
}

TEST_F(ConditionOperatorTest, ConditionalCanYieldText) {
  ctx_.member["role"] = "cto";
  EXPECT_TRUE(Holds("(has(member.role) ? member.role : 'none') == 'cto'"));
  EXPECT_TRUE(Holds("(has(member.team) ? member.team : 'none') == 'none'"));
}

// ---------------------------------------------------------------------------
// Numbers

TEST_F(ConditionNumberTest, IntPlusDoubleIsADouble) {
  std::unique_ptr<Program> p = Compiled("1 + 0.5", Want::kNumber);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->type(), Type::kDouble);
  EXPECT_EQ(p->EvalNumber(ctx_), 1.5);
}

TEST_F(ConditionNumberTest, IntArithmeticStaysInt) {
  std::unique_ptr<Program> p = Compiled("counter.posts * 2", Want::kNumber);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->type(), Type::kInt);
}

TEST_F(ConditionNumberTest, IntAndDoubleCompareNumerically) {
  ctx_.counters[0] = 3;
  EXPECT_TRUE(Holds("counter.posts == 3.0"));
  EXPECT_TRUE(Holds("counter.posts > 2.5"));
  EXPECT_TRUE(Holds("2.5 < counter.posts"));
}

TEST_F(ConditionNumberTest, LiteralFormsAreRead) {
  EXPECT_TRUE(Holds(".5 == 0.5"));
  EXPECT_TRUE(Holds("1e3 == 1000"));
  EXPECT_TRUE(Holds("2.5e-1 == 0.25"));
  EXPECT_TRUE(Holds("0x1F == 31"));
}

TEST_F(ConditionNumberTest, SmallestIntegerLiteralIsExpressible) {
  EXPECT_TRUE(Holds("-9223372036854775808 < -9223372036854775807"));
}

TEST_F(ConditionNumberTest, DoubleDivisionByZeroIsInfinity) {
  EXPECT_EQ(Number("1.0 / 0.0"), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(Holds("1 / 0.0 > 1e308"));
}

TEST_F(ConditionNumberTest, IntegerDivisionByZeroMakesComparisonsFalse) {
  EXPECT_FALSE(Holds("counter.posts / 0 == 0"));
  EXPECT_FALSE(Holds("counter.posts / 0 != 0"));
}

TEST_F(ConditionNumberTest, IntegerModuloByZeroMakesComparisonsFalse) {
  EXPECT_FALSE(Holds("counter.posts % 0 == 0"));
  EXPECT_FALSE(Holds("counter.posts % 0 != 0"));
}

TEST_F(ConditionNumberTest, IntegerOverflowMakesComparisonsFalse) {
  ctx_.counters[0] = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(Holds("counter.posts + 1 > 0"));
  EXPECT_FALSE(Holds("counter.posts + 1 <= 0"));
  EXPECT_FALSE(Holds("counter.posts * 2 != 0"));
  EXPECT_FALSE(Holds("-(-9223372036854775807 - 1) != 0"));
}

TEST_F(ConditionNumberTest, MissingNumberFormulaEvaluatesToZero) {
  ctx_.counters[0] = 7;
  EXPECT_EQ(Number("counter.posts / 0"), 0);
}

TEST_F(ConditionNumberTest, ScoresAreDoubles) {
  ctx_.scores[0] = 0.25;
  EXPECT_TRUE(Holds("score.engagement == 0.25"));
  EXPECT_TRUE(Holds("score.engagement * 4 == 1"));
}

TEST_F(ConditionNumberTest, EventValueIsADouble) {
  ctx_.event_value = 20;
  EXPECT_TRUE(Holds("event.value >= 20"));
  EXPECT_TRUE(Holds("event.value / 8 == 2.5"));
}

// ---------------------------------------------------------------------------
// Attributes (notes 15, 16)

TEST_F(ConditionAttributeTest, AttributeComparedWithNumberIsReadAsNumber) {
  ctx_.member["employees"] = "250";
  EXPECT_TRUE(Holds("member.employees >= 200"));
  EXPECT_TRUE(Holds("member.employees == 250.0"));
  EXPECT_TRUE(Holds("300 > member.employees"));
}

TEST_F(ConditionAttributeTest, AttributeInScientificNotationIsANumber) {
  ctx_.member["employees"] = "1.5e3";
  EXPECT_TRUE(Holds("member.employees == 1500"));
}

TEST_F(ConditionAttributeTest, LargeIntegerAttributeComparesExactly) {
  // 2^53 + 1 would round to 2^53 as a double.
  ctx_.member["id"] = "9007199254740993";
  EXPECT_TRUE(Holds("member.id == 9007199254740993"));
  EXPECT_FALSE(Holds("member.id == 9007199254740992"));
}

TEST_F(ConditionAttributeTest, AttributeWithSpacesIsNotANumber) {
  ctx_.member["employees"] = " 250";
  EXPECT_FALSE(Holds("member.employees > 0"));
  EXPECT_FALSE(Holds("member.employees <= 0"));
}

TEST_F(ConditionAttributeTest, AttributeWithPlusSignIsNotANumber) {
  ctx_.member["employees"] = "+250";
  EXPECT_FALSE(Holds("member.employees == 250"));
}

TEST_F(ConditionAttributeTest, NonNumericAttributeMakesNumberComparisonFalse) {
  ctx_.member["employees"] = "many";
  EXPECT_FALSE(Holds("member.employees > 0"));
  EXPECT_FALSE(Holds("member.employees < 0"));
  EXPECT_FALSE(Holds("member.employees != 0"));
}

TEST_F(ConditionAttributeTest, InfinityTextIsNotANumber) {
  ctx_.member["employees"] = "inf";
  EXPECT_FALSE(Holds("member.employees > 0"));
}

TEST_F(ConditionAttributeTest, AttributeComparedWithTextIsComparedBytewise) {
  ctx_.member["employees"] = "250";
  // As text "250" < "3"; as numbers it would not be.
  EXPECT_TRUE(Holds("member.employees < '3'"));
}

TEST_F(ConditionAttributeTest, TwoAttributesCompareAsText) {
  ctx_.member["a"] = "10";
  ctx_.member["b"] = "9";
  EXPECT_TRUE(Holds("member.a < member.b"));
}

TEST_F(ConditionAttributeTest, BracketSyntaxReadsKeysThatAreNotNames) {
  ctx_.member["job title"] = "CFO";
  ctx_.event_attrs["utm-source"] = "fair";
  EXPECT_TRUE(Holds("member['job title'] == 'CFO'"));
  EXPECT_TRUE(Holds("event.attrs['utm-source'] == 'fair'"));
}

TEST_F(ConditionAttributeTest, EventAttributesAreRead) {
  ctx_.event_attrs["topic"] = "tax";
  EXPECT_TRUE(Holds("event.attrs.topic == 'tax'"));
}

TEST_F(ConditionAttributeTest, EventFieldsAreText) {
  ctx_.event_type = "content.read";
  ctx_.event_group = "g1";
  EXPECT_TRUE(Holds("event.type == 'content.read'"));
  EXPECT_TRUE(Holds("event.group == 'g1'"));
  EXPECT_TRUE(Holds("event.channel == ''"));
}

TEST_F(ConditionAttributeTest, EscapesInTextAreResolved) {
  ctx_.member["quote"] = "it's \"ok\"\n\t\\";
  EXPECT_TRUE(Holds("member.quote == 'it\\'s \"ok\"\\n\\t\\\\'"));
  EXPECT_TRUE(Holds("member.quote == \"it's \\\"ok\\\"\\n\\t\\\\\""));
}

// ---------------------------------------------------------------------------
// Missing values (note 15)

TEST_F(ConditionMissingValueTest, MissingAttributeMakesEqualFalse) {
  EXPECT_FALSE(Holds("member.role == 'cto'"));
}

TEST_F(ConditionMissingValueTest, MissingAttributeMakesNotEqualFalse) {
  EXPECT_FALSE(Holds("member.role != 'cto'"));
}

TEST_F(ConditionMissingValueTest, NegatedEqualityHoldsForMissingAttribute) {
  EXPECT_TRUE(Holds("!(member.role == 'cto')"));
}

TEST_F(ConditionMissingValueTest, MissingAttributeMakesNumberComparisonFalse) {
  EXPECT_FALSE(Holds("member.employees > 0"));
  EXPECT_FALSE(Holds("member.employees <= 0"));
}

TEST_F(ConditionMissingValueTest, MissingAttributeMakesInFalse) {
  EXPECT_FALSE(Holds("member.role in ['cto', 'cfo']"));
}

TEST_F(ConditionMissingValueTest, MissingAttributeMakesTextFunctionsFalse) {
  EXPECT_FALSE(Holds("member.email.startsWith('')"));
  EXPECT_FALSE(Holds("member.email.endsWith('')"));
  EXPECT_FALSE(Holds("member.email.contains('')"));
  EXPECT_FALSE(Holds("member.email.matches('')"));
  EXPECT_FALSE(Holds("'x'.contains(member.email)"));
}

TEST_F(ConditionMissingValueTest, SizeOfMissingIsMissing) {
  EXPECT_FALSE(Holds("size(member.role) == 0"));
  EXPECT_FALSE(Holds("size(member.role) != 0"));
}

TEST_F(ConditionMissingValueTest, HasTestsPresence) {
  ctx_.member["role"] = "cto";
  EXPECT_TRUE(Holds("has(member.role)"));
  EXPECT_FALSE(Holds("has(member.team)"));
}

TEST_F(ConditionMissingValueTest, HasTestsEventAttributes) {
  ctx_.event_attrs["topic"] = "tax";
  EXPECT_TRUE(Holds("has(event.attrs.topic)"));
  EXPECT_FALSE(Holds("has(event.attrs['other key'])"));
}

TEST_F(ConditionMissingValueTest, EmptyAttributeIsPresent) {
  ctx_.member["role"] = "";
  EXPECT_TRUE(Holds("has(member.role)"));
  EXPECT_TRUE(Holds("member.role == ''"));
}

// ---------------------------------------------------------------------------
// `in` with lists

TEST_F(ConditionListTest, TextInListMatchesAnItem) {
  ctx_.member["industry"] = "accounting";
  EXPECT_TRUE(Holds("member.industry in ['manufacturing', 'accounting']"));
  EXPECT_FALSE(Holds("member.industry in ['manufacturing', 'retail']"));
}

TEST_F(ConditionListTest, NumberInListComparesNumerically) {
  ctx_.counters[0] = 2;
  EXPECT_TRUE(Holds("counter.posts in [1, 2.0, 3]"));
  EXPECT_FALSE(Holds("counter.posts in [1, 3]"));
}

TEST_F(ConditionListTest, AttributeInNumberListIsReadAsNumber) {
  ctx_.member["employees"] = "250.0";
  EXPECT_TRUE(Holds("member.employees in [100, 250]"));
}

TEST_F(ConditionListTest, NothingIsInAnEmptyList) {
  EXPECT_FALSE(Holds("'a' in []"));
}

TEST_F(ConditionListTest, NegativeNumbersAreListItems) {
  ctx_.scores[1] = -1.5;
  EXPECT_TRUE(Holds("score.fit in [-1.5, -2]"));
}

TEST_F(ConditionListTest, SizeOfListCountsItems) {
  EXPECT_TRUE(Holds("size([1, 2, 3]) == 3"));
}

// ---------------------------------------------------------------------------
// Tags

TEST_F(ConditionTagTest, TagInTagsTestsTheMember) {
  ctx_.tags = {1};
  EXPECT_TRUE(Holds("'topic:tax' in tags"));
  EXPECT_FALSE(Holds("'vip' in tags"));
}

TEST_F(ConditionTagTest, SizeOfTagsCountsHeldTags) {
  ctx_.tags = {0, 2};
  EXPECT_TRUE(Holds("size(tags) == 2"));
}

// ---------------------------------------------------------------------------
// Stages

TEST_F(ConditionStageTest, StageEqualsAStageName) {
  ctx_.stage = 2;
  EXPECT_TRUE(Holds("stage == 'mql'"));
  EXPECT_TRUE(Holds("'mql' == stage"));
  EXPECT_FALSE(Holds("stage == 'sql'"));
}

TEST_F(ConditionStageTest, StageNotEqualsAStageName) {
  ctx_.stage = 2;
  EXPECT_TRUE(Holds("stage != 'sql'"));
  EXPECT_FALSE(Holds("stage != 'mql'"));
}

TEST_F(ConditionStageTest, StageInListOfStageNames) {
  ctx_.stage = 1;
  EXPECT_TRUE(Holds("stage in ['new', 'active']"));
  EXPECT_FALSE(Holds("stage in ['mql', 'sql']"));
}

// ---------------------------------------------------------------------------
// Durations and time (notes 18, 22)

TEST_F(ConditionTimeTest, IdleComparesWithADuration) {
  ctx_.idle = 31 * kDay;
  EXPECT_TRUE(Holds("idle >= duration('30d')"));
  EXPECT_FALSE(Holds("idle >= duration('5w')"));
}

TEST_F(ConditionTimeTest, DurationUnitsAreMilliseconds) {
  EXPECT_TRUE(Holds("duration('250ms') < duration('1s')"));
  EXPECT_TRUE(Holds("duration('1w2d') == duration('9d')"));
}

TEST_F(ConditionTimeTest, DurationsAddAndSubtract) {
  EXPECT_TRUE(Holds("duration('1d') + duration('12h') == duration('36h')"));
  EXPECT_TRUE(Holds("duration('1d') - duration('1h') == duration('23h')"));
}

TEST_F(ConditionTimeTest, DurationMultipliesByWholeNumber) {
  EXPECT_TRUE(Holds("duration('1h') * 24 == duration('1d')"));
  EXPECT_TRUE(Holds("2 * duration('1h') == duration('120m')"));
}

TEST_F(ConditionTimeTest, NowMinusDurationIsEarlier) {
  EXPECT_TRUE(Holds("now - duration('1d') < now"));
  EXPECT_TRUE(Holds("duration('1d') + now > now"));
}

TEST_F(ConditionTimeTest, DifferenceOfTimesIsADuration) {
  EXPECT_TRUE(Holds("now - (now - duration('1d')) == duration('24h')"));
}

TEST_F(ConditionTimeTest, StageAgeIsADuration) {
  ctx_.stage_age = 2 * kHour;
  EXPECT_TRUE(Holds("stage_age > duration('1h')"));
}

TEST_F(ConditionTimeTest, NegatedDurationIsNegative) {
  ctx_.idle = kHour;
  EXPECT_TRUE(Holds("-idle < idle"));
}

// ---------------------------------------------------------------------------
// Text functions and regular expressions

TEST_F(ConditionTextFunctionTest, StartsWithEndsWithAndContains) {
  ctx_.member["email"] = "ann@acme.com";
  EXPECT_TRUE(Holds("member.email.startsWith('ann')"));
  EXPECT_FALSE(Holds("member.email.startsWith('acme')"));
  EXPECT_TRUE(Holds("member.email.endsWith('.com')"));
  EXPECT_FALSE(Holds("member.email.endsWith('ann')"));
  EXPECT_TRUE(Holds("member.email.contains('@acme')"));
  EXPECT_FALSE(Holds("member.email.contains('@beta')"));
}

TEST_F(ConditionTextFunctionTest, MatchesFindsThePatternAnywhere) {
  ctx_.member["email"] = "ann@acme.com";
  EXPECT_TRUE(Holds("member.email.matches('acme')"));
  EXPECT_FALSE(Holds("member.email.matches('^acme')"));
}

TEST_F(ConditionTextFunctionTest, MatchesAlsoTakesTheTextAsFirstArgument) {
  ctx_.member["email"] = "ann@acme.com";
  EXPECT_TRUE(Holds("matches(member.email, '@acme\\\\.com$')"));
  EXPECT_FALSE(Holds("matches(member.email, '@acme\\\\.org$')"));
}

TEST_F(ConditionTextFunctionTest, SizeCountsCharactersNotBytes) {
  ctx_.member["city"] = "上海";
  EXPECT_TRUE(Holds("size(member.city) == 2"));
  EXPECT_TRUE(Holds("member.city.size() == 2"));
}

// ---------------------------------------------------------------------------
// Conversions

TEST_F(ConditionConversionTest, IntOfDoubleTruncatesTowardZero) {
  EXPECT_TRUE(Holds("int(2.9) == 2"));
  EXPECT_TRUE(Holds("int(-2.9) == -2"));
}

TEST_F(ConditionConversionTest, IntOfHugeDoubleIsMissing) {
  EXPECT_FALSE(Holds("int(1e300) == 0"));
  EXPECT_FALSE(Holds("int(1e300) != 0"));
}

TEST_F(ConditionConversionTest, IntOfTextReadsTheNumber) {
  ctx_.member["employees"] = "42";
  ctx_.member["rating"] = "12.7";
  EXPECT_TRUE(Holds("int(member.employees) == 42"));
  EXPECT_TRUE(Holds("int(member.rating) == 12"));
}

TEST_F(ConditionConversionTest, IntOfNonNumericTextIsMissing) {
  ctx_.member["employees"] = "many";
  EXPECT_FALSE(Holds("int(member.employees) != 0"));
}

TEST_F(ConditionConversionTest, DoubleOfTextReadsTheNumber) {
  ctx_.member["rating"] = "4.5";
  EXPECT_TRUE(Holds("double(member.rating) * 2 == 9"));
}

TEST_F(ConditionConversionTest, DoubleOfIntWidens) {
  ctx_.counters[0] = 7;
  EXPECT_EQ(Number("double(counter.posts) / 2"), 3.5);
}

TEST_F(ConditionConversionTest, StringOfNumbersFormatsThem) {
  ctx_.counters[0] = -42;
  EXPECT_TRUE(Holds("string(counter.posts) == '-42'"));
  EXPECT_TRUE(Holds("string(1.5) == '1.5'"));
  EXPECT_TRUE(Holds("string(1 < 2) == 'true'"));
}

TEST_F(ConditionConversionTest, StringOfAttributeComparesAsText) {
  ctx_.member["employees"] = "250";
  EXPECT_TRUE(Holds("string(member.employees) < '3'"));
}

// ---------------------------------------------------------------------------
// Problems, with the byte offset of the offending token

TEST_F(ConditionProblemTest, UnknownScorePointsAtTheName) {
  Problem p = OnlyProblem("score.engagment > 10");
  EXPECT_EQ(p.offset, 6);
  EXPECT_THAT(p.message, HasSubstr("unknown score 'engagment'"));
}

TEST_F(ConditionProblemTest, UnknownCounterPointsAtTheName) {
  Problem p = OnlyProblem("counter.post >= 3");
  EXPECT_EQ(p.offset, 8);
  EXPECT_THAT(p.message, HasSubstr("unknown counter 'post'"));
}

TEST_F(ConditionProblemTest, UnknownTagPointsAtTheTagName) {
  Problem p = OnlyProblem("score.fit > 1 && 'vipp' in tags");
  EXPECT_EQ(p.offset, 17);
  EXPECT_THAT(p.message, HasSubstr("unknown tag 'vipp'"));
}

TEST_F(ConditionProblemTest, TagNameMustBeALiteral) {
  Problem p = OnlyProblem("member.role in tags");
  EXPECT_EQ(p.offset, 0);
  EXPECT_THAT(p.message, HasSubstr("in quotes"));
}

TEST_F(ConditionProblemTest, UnknownStagePointsAtTheStageName) {
  Problem p = OnlyProblem("stage == 'mgl'");
  EXPECT_EQ(p.offset, 9);
  EXPECT_THAT(p.message, HasSubstr("unknown stage 'mgl'"));
}

TEST_F(ConditionProblemTest, UnknownStageInListPointsAtTheItem) {
  Problem p = OnlyProblem("stage in ['new', 'mgl']");
  EXPECT_EQ(p.offset, 17);
  EXPECT_THAT(p.message, HasSubstr("unknown stage 'mgl'"));
}

TEST_F(ConditionProblemTest, StageWithoutLifecycleIsAProblem) {
  scope_.lifecycle = false;
  Problem p = OnlyProblem("score.fit > 1 || stage == 'new'");
  EXPECT_EQ(p.offset, 17);
  EXPECT_THAT(p.message, HasSubstr("no lifecycle"));
}

TEST_F(ConditionProblemTest, StagesHaveNoOrder) {
  Problem p = OnlyProblem("stage < 'mql'");
  EXPECT_EQ(p.offset, 6);
  EXPECT_THAT(p.message, HasSubstr("stage == 'name'"));
}

TEST_F(ConditionProblemTest, StageComparesOnlyWithALiteral) {
  Problem p = OnlyProblem("stage == member.stage");
  EXPECT_EQ(p.offset, 9);
}

TEST_F(ConditionProblemTest, BadRegexPointsAtThePattern) {
  Problem p = OnlyProblem("member.email.matches('(')");
  EXPECT_EQ(p.offset, 21);
  EXPECT_THAT(p.message, HasSubstr("invalid pattern"));
}

TEST_F(ConditionProblemTest, PatternMustBeALiteral) {
  Problem p = OnlyProblem("matches(member.email, member.pattern)");
  EXPECT_EQ(p.offset, 22);
}

TEST_F(ConditionProblemTest, BadDurationPointsAtTheArgument) {
  Problem p = OnlyProblem("idle > duration('30x')");
  EXPECT_EQ(p.offset, 16);
  EXPECT_THAT(p.message, HasSubstr("invalid duration"));
}

TEST_F(ConditionProblemTest, DurationArgumentMustBeALiteral) {
  Problem p = OnlyProblem("idle > duration(member.ttl)");
  EXPECT_EQ(p.offset, 16);
}

TEST_F(ConditionProblemTest, IntOfADurationNamesItAndSuggestsDurations) {
  // "int(idle) > 5": the problem is at `idle` (offset 4).
  Problem p = OnlyProblem("int(idle) > 5");
  EXPECT_EQ(p.offset, 4);
  EXPECT_THAT(p.message, HasSubstr("int() converts numbers and text, but idle is"));
  EXPECT_THAT(p.message, HasSubstr("idle > duration('7d')"));
}

TEST_F(ConditionProblemTest, DoubleOfTrueFalseNamesIt) {
  // double() of a condition: the problem is at the comparison (offset 7).
  Problem p = OnlyProblem("double(score.fit > 1) > 0.5");
  EXPECT_EQ(p.offset, 7);
  EXPECT_THAT(p.message, HasSubstr("double() converts numbers and text, but score.fit > 1 is"));
}

TEST_F(ConditionProblemTest, ComparingNumberWithTextPointsAtTheOperator) {
  Problem p = OnlyProblem("score.fit == 'high'");
  EXPECT_EQ(p.offset, 10);
  EXPECT_THAT(p.message, HasSubstr("cannot compare score.fit"));
}

TEST_F(ConditionProblemTest, ComparingDurationWithNumberSuggestsDuration) {
  Problem p = OnlyProblem("idle > 30");
  EXPECT_EQ(p.offset, 5);
  EXPECT_THAT(p.message, HasSubstr("duration('7d')"));
}

TEST_F(ConditionProblemTest, ComparingAttributeWithBooleanSuggestsQuotes) {
  Problem p = OnlyProblem("member.vip == true");
  EXPECT_EQ(p.offset, 11);
  EXPECT_THAT(p.message, HasSubstr("'true'"));
}

TEST_F(ConditionProblemTest, AndNeedsBooleans) {
  Problem p = OnlyProblem("true && score.fit");
  EXPECT_EQ(p.offset, 8);
  EXPECT_THAT(p.message, HasSubstr("score.fit > 0"));
}

TEST_F(ConditionProblemTest, TextCannotBeJoined) {
  Problem p = OnlyProblem("member.first + member.last == 'ab'");
  EXPECT_EQ(p.offset, 13);
  EXPECT_THAT(p.message, HasSubstr("cannot be joined"));
}

TEST_F(ConditionProblemTest, AttributeArithmeticNeedsAConversion) {
  Problem p = OnlyProblem("score.fit > member.employees * 2");
  EXPECT_EQ(p.offset, 12);
  EXPECT_THAT(p.message, HasSubstr("double(member.employees)"));
}

TEST_F(ConditionProblemTest, ConditionalBranchesMustAgree) {
  Problem p = OnlyProblem("(true ? 1 : 'a') == 1");
  EXPECT_EQ(p.offset, 6);
}

TEST_F(ConditionProblemTest, ListOnlyFollowsIn) {
  Problem p = OnlyProblem("member.role == ['a']");
  EXPECT_EQ(p.offset, 15);
}

TEST_F(ConditionProblemTest, ListItemsMustBeFixedValues) {
  Problem p = OnlyProblem("member.role in ['a', member.other]");
  EXPECT_EQ(p.offset, 21);
}

TEST_F(ConditionProblemTest, UnknownFunctionPointsAtItsName) {
  Problem p = OnlyProblem("score.fit > 1 && lower(member.role) == 'a'");
  EXPECT_EQ(p.offset, 17);
  EXPECT_THAT(p.message, HasSubstr("unknown function 'lower'"));
}

TEST_F(ConditionProblemTest, UnknownNameSuggestsQuotes) {
  Problem p = OnlyProblem("member.role == cto");
  EXPECT_EQ(p.offset, 15);
  EXPECT_THAT(p.message, HasSubstr("'cto'"));
}

TEST_F(ConditionProblemTest, EventFieldsAreUnavailableInAFitRule) {
  scope_.allowed = Allowed();
  scope_.allowed.event = false;
  scope_.allowed.scores = false;
  scope_.allowed.counters = false;
  scope_.allowed.tags = false;
  scope_.allowed.stage = false;
  scope_.allowed.time = false;
  scope_.allowed.where = "a fit rule condition";
  Problem p = OnlyProblem("member.role == 'cto' && event.value > 1");
  EXPECT_EQ(p.offset, 24);
  EXPECT_THAT(p.message,
              HasSubstr("event.value is not available in a fit rule "
                        "condition: it sees only member attributes"));
}

TEST_F(ConditionProblemTest, DerivedFormulaSeesOnlyScores) {
  scope_.allowed = Allowed();
  scope_.allowed.member = false;
  scope_.allowed.counters = false;
  scope_.allowed.tags = false;
  scope_.allowed.stage = false;
  scope_.allowed.time = false;
  scope_.allowed.where = "a derived score formula";
  Problem p = OnlyProblem("score.fit + counter.posts", Want::kNumber);
  EXPECT_EQ(p.offset, 12);
  EXPECT_THAT(p.message,
              HasSubstr("counter.posts is not available in a derived score "
                        "formula: it sees only scores"));
}

TEST_F(ConditionProblemTest, ConditionMustBeTrueOrFalse) {
  Problem p = OnlyProblem("score.fit");
  EXPECT_EQ(p.offset, 0);
  EXPECT_THAT(p.message, HasSubstr("true or false"));
}

TEST_F(ConditionProblemTest, FormulaMustBeANumber) {
  Problem p = OnlyProblem("score.fit > 1", Want::kNumber);
  EXPECT_EQ(p.offset, 0);
  EXPECT_THAT(p.message, HasSubstr("must compute a number"));
}

TEST_F(ConditionProblemTest, SyntaxErrorPointsAtTheUnexpectedToken) {
  Problem p = OnlyProblem("score.fit >> 3");
  EXPECT_EQ(p.offset, 11);
}

TEST_F(ConditionProblemTest, SyntaxErrorAtTheEndPointsAtTheEnd) {
  Problem p = OnlyProblem("score.fit > ");
  EXPECT_EQ(p.offset, 12);
  EXPECT_THAT(p.message, HasSubstr("ends too early"));
}

TEST_F(ConditionProblemTest, UnclosedParenthesisIsReported) {
  Problem p = OnlyProblem("(score.fit > 1");
  EXPECT_EQ(p.offset, 14);
  EXPECT_THAT(p.message, HasSubstr("')'"));
}

TEST_F(ConditionProblemTest, UnclosedTextPointsAtTheQuote) {
  Problem p = OnlyProblem("member.role == 'cto");
  EXPECT_EQ(p.offset, 15);
  EXPECT_THAT(p.message, HasSubstr("not closed"));
}

TEST_F(ConditionProblemTest, SingleEqualsSignIsExplained) {
  Problem p = OnlyProblem("member.role = 'cto'");
  EXPECT_EQ(p.offset, 12);
  EXPECT_THAT(p.message, HasSubstr("=="));
}

TEST_F(ConditionProblemTest, EmptyConditionIsAProblem) {
  Problem p = OnlyProblem("   ");
  EXPECT_EQ(p.offset, 0);
}

TEST_F(ConditionProblemTest, SizeOfTagsNeedsTheTagCount) {
  scope_.tag_count_known = false;
  Problem p = OnlyProblem("size(tags) > 1");
  EXPECT_EQ(p.offset, 0);
}

TEST_F(ConditionProblemTest, DeepNestingIsReportedNotCrashed) {
  std::string text(20000, '!');
  text += "true";
  Problem p = OnlyProblem(text);
  EXPECT_THAT(p.message, HasSubstr("nested too deeply"));
}

TEST_F(ConditionProblemTest, LongChainOfConditionsIsReportedNotCrashed) {
  std::string text = "1 == 1";
  for (int i = 0; i < 2000; ++i) text += " && 1 == 1";
  Problem p = OnlyProblem(text);
  EXPECT_THAT(p.message, HasSubstr("nested too deeply"));
}

TEST_F(ConditionProblemTest, SeveralProblemsAreReportedAtOnce) {
  std::string text =
      "score.engagment > 1 && 'vipp' in tags && stage == 'mgl' && "
      "member.email.matches('[')";
  std::vector<Problem> problems = Problems(text);
  std::vector<int> offsets;
  for (const Problem& p : problems) offsets.push_back(p.offset);
  EXPECT_THAT(offsets,
              ElementsAre(6, static_cast<int>(text.find("'vipp'")),
                          static_cast<int>(text.find("'mgl'")),
                          static_cast<int>(text.find("'['"))));
}

TEST_F(ConditionProblemTest, EachOperandOfAnOperatorIsChecked) {
  std::vector<Problem> problems = Problems("score.a + score.b > 1");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].offset, 6);
  EXPECT_EQ(problems[1].offset, 16);
}

// ---------------------------------------------------------------------------
// Reads

TEST_F(ConditionReadsTest, DerivedFormulaIsANumberReadingBothScores) {
  std::unique_ptr<Program> p =
      Compiled("score.engagement + score.fit", Want::kNumber);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->type(), Type::kDouble);
  EXPECT_THAT(p->reads().scores, ElementsAre(0, 1));
  EXPECT_FALSE(p->reads().member);
  EXPECT_FALSE(p->reads().time);
  ctx_.scores = {30, 12.5, 0};
  EXPECT_EQ(p->EvalNumber(ctx_), 42.5);
}

TEST_F(ConditionReadsTest, ScoreReadsAreSortedAndUnique) {
  std::unique_ptr<Program> p = Compiled(
      "score.lead > 1 && score.fit > 1 && score.lead < 9", Want::kBool);
  ASSERT_NE(p, nullptr);
  EXPECT_THAT(p->reads().scores, ElementsAre(1, 2));
}

TEST_F(ConditionReadsTest, FlagsNameTheFamiliesRead) {
  std::unique_ptr<Program> p = Compiled(
      "has(member.role) && counter.posts > 1 && 'vip' in tags", Want::kBool);
  ASSERT_NE(p, nullptr);
  const Reads& r = p->reads();
  EXPECT_THAT(r.scores, IsEmpty());
  EXPECT_TRUE(r.member);
  EXPECT_TRUE(r.counters);
  EXPECT_TRUE(r.tags);
  EXPECT_FALSE(r.stage);
  EXPECT_FALSE(r.event);
  EXPECT_FALSE(r.time);
}

TEST_F(ConditionReadsTest, EventAndTimeAreRecorded) {
  std::unique_ptr<Program> p =
      Compiled("event.type == 'x' && idle > duration('1d')", Want::kBool);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->reads().event);
  EXPECT_TRUE(p->reads().time);
  EXPECT_FALSE(p->reads().member);
}

TEST_F(ConditionReadsTest, StageAgeReadsStageAndTime) {
  std::unique_ptr<Program> p =
      Compiled("stage_age > duration('1d')", Want::kBool);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->reads().stage);
  EXPECT_TRUE(p->reads().time);
}

// --- TimeShape: what the engine may skip when only time passes ------------

using TimeShapeTest = ConditionTest;

TEST_F(TimeShapeTest, ComparisonsOfAScoreACounterOrIdleWithAConstant) {
  // scores: engagement 0, fit 1, lead 2; counters: posts 0, invites 1.
  auto shape = [&](std::string_view text) { return Compiled(text, Want::kBool)->time_shape(); };
  TimeShape s = shape("score.lead >= 80.5");
  EXPECT_EQ(s.of, TimeShape::Of::kScore);
  EXPECT_EQ(s.index, 2);
  EXPECT_TRUE(s.above);
  s = shape("counter.invites < 3");
  EXPECT_EQ(s.of, TimeShape::Of::kCounter);
  EXPECT_EQ(s.index, 1);
  EXPECT_FALSE(s.above);
  s = shape("idle > duration('30d')");
  EXPECT_EQ(s.of, TimeShape::Of::kIdle);
  EXPECT_TRUE(s.above);
}

TEST_F(TimeShapeTest, OtherConditionsSayNothing) {
  for (std::string_view text :
       {"score.lead == 80.5", "score.lead != 1", "!(score.lead >= 80.5)",
        "score.lead >= 1 && idle > duration('1d')", "score.lead >= score.fit",
        "'vip' in tags", "stage == 'mql'"}) {
    std::unique_ptr<Program> p = Compiled(text, Want::kBool);
    EXPECT_EQ(p->time_shape().of, TimeShape::Of::kNone) << text;
  }
}

TEST_F(TimeShapeTest, SumsOfScoresTimesConstantsRiseWithTheirScores) {
  for (std::string_view text :
       {"score.engagement", "score.engagement + 2 * score.fit",
        "score.engagement * 0.5 + score.fit / 4 - 10", "3 + score.fit",
        "(score.engagement + score.fit) + score.lead - 1"}) {
    std::unique_ptr<Program> p = Compiled(text, Want::kNumber);
    EXPECT_TRUE(p->time_shape().rises_with_scores) << text;
  }
}

TEST_F(TimeShapeTest, FormulasThatCanFallAsAScoreRisesDoNot) {
  // A score subtracted or scaled by a negative number falls as it rises; a
  // product of scores, a quotient by a score, a modulo, a factor or divisor
  // beyond 2^500 (2^500 ~ 3.3e150) or below 2^-500, and a factor of a sum
  // are not in the form the engine's argument covers.
  for (std::string_view text :
       {"score.engagement - score.fit", "10 - score.fit", "-2 * score.fit",
        "score.engagement * score.fit", "score.engagement / score.fit",
        "score.engagement % 7", "1e200 * score.fit", "score.fit / 1e-200",
        "score.fit / 0", "2 * (score.engagement + score.fit)",
        "score.fit + 1e200", "score.fit + counter.posts"}) {
    std::unique_ptr<Program> p = Compiled(text, Want::kNumber);
    ASSERT_NE(p, nullptr) << text;
    EXPECT_FALSE(p->time_shape().rises_with_scores) << text;
  }
}

}  // namespace
}  // namespace leadscore::expr
