// Limits (docs/limits.md): each one, exceeded, gives a clear error or
// rejection that names it; never a crash or unbounded memory.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadscore/model.h"
#include "leadscore/store.h"

namespace leadscore {
namespace {

using ::testing::HasSubstr;

class Recorder : public ChangeSink {
 public:
  void OnChange(const Change& c) override {
    if (c.kind == ChangeKind::kRejected) details.emplace_back(c.detail);
  }
  std::vector<std::string> details;
};

std::string Problems(const std::string& text, const ModelLimits& limits) {
  auto model = Model::LoadText(text, "m.textproto", nullptr, limits);
  EXPECT_FALSE(model.ok());
  return std::string(model.status().message());
}

TEST(ModelLimitsTest, ModelLargerThanMaxModelBytesIsRefused) {
  ModelLimits limits;
  limits.max_model_bytes = 100;
  std::string text = "name: \"" + std::string(200, 'x') + "\"\n";
  EXPECT_THAT(Problems(text, limits), HasSubstr("more than ModelLimits::max_model_bytes (100)"));
}

TEST(ModelLimitsTest, ModelFileLargerThanMaxModelBytesIsRefusedBeforeReading) {
  ModelLimits limits;
  limits.max_model_bytes = 10;
  auto model = Model::LoadFile(std::string(LEADSCORE_SOURCE_DIR) +
                                   "/examples/models/community.textproto",
                               nullptr, limits);
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()), HasSubstr("max_model_bytes (10)"));
}

TEST(ModelLimitsTest, MoreRulesThanMaxItemsPerKindIsRefused) {
  ModelLimits limits;
  limits.max_items_per_kind = 2;
  std::string text = "score { name: \"s\" }\n";
  for (int i = 0; i < 3; ++i) {
    text += "rule { name: \"r" + std::to_string(i) + "\" on: \"x\" score: \"s\" points: 1 }\n";
  }
  EXPECT_THAT(Problems(text, limits),
              HasSubstr("3 event and fit rules, more than ModelLimits::max_items_per_kind (2)"));
}

TEST(ModelLimitsTest, ConditionLongerThanMaxConditionBytesIsRefusedAtItsPlace) {
  ModelLimits limits;
  limits.max_condition_bytes = 20;
  std::string text = "tag { name: \"t\" when: \"1 + 1 + 1 + 1 + 1 + 1 + 1 == 7\" }\n";
  std::string msg = Problems(text, limits);
  EXPECT_THAT(msg, HasSubstr("m.textproto:1:"));
  EXPECT_THAT(msg, HasSubstr("more than ModelLimits::max_condition_bytes (20)"));
}

TEST(ModelLimitsTest, ConditionNestedDeeperThan500LevelsIsRefused) {
  std::string cond = std::string(600, '(') + "true" + std::string(600, ')');
  std::string text = "tag { name: \"t\" when: \"" + cond + "\" }\n";
  std::string msg = Problems(text, ModelLimits());
  EXPECT_THAT(msg, HasSubstr("nested too deeply"));
}

TEST(ModelLimitsTest, DefaultLimitsLoadTheFixture) {
  auto model = Model::LoadFile(std::string(LEADSCORE_SHARED_DIR) +
                               "/examples/community.textproto");
  EXPECT_TRUE(model.ok()) << model.status();
}

class StoreLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = Model::LoadText(
        "score { name: \"s\" }\nrule { name: \"r\" on: \"*\" score: \"s\" points: 1 }\n");
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = *m;
  }
  Event Base(const std::string& member = "m1") {
    member_ = member;
    Event e;
    e.event_id = "e1";
    e.member_id = member_;
    e.has_time = true;
    e.time = 1767225600000;
    e.type = "x";
    return e;
  }
  std::shared_ptr<const Model> model_;
  std::string member_;
  Recorder rec_;
};

TEST_F(StoreLimitsTest, LongMemberIdIsRejectedAsInvalidNamingTheLimit) {
  StoreLimits limits;
  limits.max_id_bytes = 8;
  Store store(model_, limits);
  store.Apply(Base("a-member-id-of-22-bytes"), &rec_);
  ASSERT_EQ(rec_.details.size(), 1u);
  EXPECT_THAT(rec_.details[0], HasSubstr("member_id is 23 bytes, more than StoreLimits::max_id_bytes (8)"));
  EXPECT_EQ(store.stats().rejected[static_cast<int>(RejectReason::kInvalid)], 1);
  EXPECT_EQ(store.stats().members, 0);
}

TEST_F(StoreLimitsTest, LongTypeIsRejected) {
  StoreLimits limits;
  limits.max_type_bytes = 4;
  Store store(model_, limits);
  Event e = Base();
  e.type = "content.read";
  store.Apply(e, &rec_);
  ASSERT_EQ(rec_.details.size(), 1u);
  EXPECT_THAT(rec_.details[0], HasSubstr("StoreLimits::max_type_bytes (4)"));
}

TEST_F(StoreLimitsTest, TooManyAttributesAreRejected) {
  StoreLimits limits;
  limits.max_attrs_per_event = 2;
  Store store(model_, limits);
  std::vector<KeyValue> kv{{"a", "1"}, {"b", "2"}, {"c", "3"}};
  Event e = Base();
  e.attrs = kv;
  store.Apply(e, &rec_);
  ASSERT_EQ(rec_.details.size(), 1u);
  EXPECT_THAT(rec_.details[0], HasSubstr("3 attributes, more than StoreLimits::max_attrs_per_event (2)"));
}

TEST_F(StoreLimitsTest, LongAttributeValueIsRejected) {
  StoreLimits limits;
  limits.max_attr_bytes = 16;
  Store store(model_, limits);
  std::string big(17, 'v');
  std::vector<KeyValue> kv{{"k", big}};
  Event e = Base();
  e.profile = kv;
  store.Apply(e, &rec_);
  ASSERT_EQ(rec_.details.size(), 1u);
  EXPECT_THAT(rec_.details[0], HasSubstr("StoreLimits::max_attr_bytes (16)"));
}

TEST_F(StoreLimitsTest, NewMemberBeyondMaxMembersIsRejectedButKnownMembersGoOn) {
  StoreLimits limits;
  limits.max_members = 1;
  Store store(model_, limits);
  store.Apply(Base("m1"), &rec_);
  Event second = Base("m2");
  store.Apply(second, &rec_);
  Event again = Base("m1");
  again.event_id = "e2";
  again.time += 1000;
  store.Apply(again, &rec_);
  ASSERT_EQ(rec_.details.size(), 1u);
  EXPECT_THAT(rec_.details[0], HasSubstr("the store is full: StoreLimits::max_members is 1"));
  EXPECT_EQ(store.stats().members, 1);
  EXPECT_EQ(store.stats().events_applied, 2);
}

}  // namespace
}  // namespace leadscore
