// Shared by the fuzz targets: limits, and a fixed workout for a loaded model
// (a few members, events of several types and attributes, advances, reads).
#ifndef LEADSCORE_TESTS_FUZZ_FUZZ_UTIL_H_
#define LEADSCORE_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "leadscore/model.h"
#include "leadscore/store.h"

namespace leadscore::fuzz {

constexpr size_t kMaxModelBytes = 64 * 1024;

// examples/models/community.textproto, for the targets that need a model.
constexpr char kCommunityModel[] = R"pb(# A scoring model for a B2B accounting-software community (see ../DOMAIN.md).
# Protocol Buffers text format for the message leadscore.v1.Model.
# This file is a fixture: the project's model format must load it as it is, and
# score it as ../SEMANTICS.md says.

name: "b2b-community"
allowed_lateness: "7d"

score { name: "engagement" half_life: "30d" min: 0 max: 500 }
score { name: "fit" min: -100 max: 100 }
score { name: "lead" formula: "score.engagement + score.fit" }

counter { name: "posts_14d" on: "message.post" window: "14d" }
counter { name: "courses_30d" on: "course.attend" window: "30d" }
counter { name: "invites" on: "invite.accepted" }

# Behaviour: points per event, some capped over a rolling window.
rule { name: "joined" on: "group.join" score: "engagement" points: 5 once: true }
rule { name: "intro" on: "member.intro" score: "engagement" points: 5 once: true }
rule { name: "post" on: "message.post" score: "engagement" points: 1
       cap { max_points: 5 window: "1d" } }
rule { name: "read" on: "content.read" score: "engagement" points: 2
       cap { max_points: 10 window: "1d" } }
rule { name: "download" on: "content.download" score: "engagement" points: 5
       cap { max_points: 15 window: "7d" } }
rule { name: "course" on: "course.attend" when: "event.value >= 20"
       score: "engagement" points: 10 cap { max_points: 30 window: "7d" } }
rule { name: "quiz" on: "quiz.answer" score: "engagement" points: 3 }
rule { name: "share" on: "poster.share" score: "engagement" points: 4
       cap { max_points: 12 window: "7d" } }
rule { name: "invite" on: "invite.accepted" score: "engagement" points: 8 }
rule { name: "event_signup" on: "event.signup" score: "engagement" points: 10 }
rule { name: "event_attend" on: "event.attend" score: "engagement" points: 25 }
rule { name: "register" on: "product.register" score: "engagement" points: 30 once: true }
rule { name: "demo" on: "demo.request" score: "engagement" points: 40 }
rule { name: "left" on: "group.leave" score: "engagement" points: -20 }
rule { name: "spam" on: "spam.report" score: "engagement" points: -30 }

# Fit: who the member is.
fit { name: "decision_maker" when: "member.role == 'decision_maker'" score: "fit" points: 25 }
fit { name: "target_industry" when: "member.industry in ['manufacturing', 'accounting']"
      score: "fit" points: 15 }
fit { name: "big_company" when: "member.employees >= 200" score: "fit" points: 10 }
fit { name: "consumer" when: "member.identity == 'consumer'" score: "fit" points: -100 }

tag { name: "decision_maker" when: "member.role == 'decision_maker'" }
tag { name: "disqualified" when: "member.identity == 'consumer'" }
tag { name: "koc" when: "counter.invites >= 3" }
tag { name: "active_poster" when: "counter.posts_14d >= 10" }
tag { name: "learner" when: "counter.courses_30d >= 2" }
tag { name: "topic:tax" on: "content.*" when: "event.attrs.topic == 'tax'" ttl: "90d" }
tag { name: "dormant" when: "idle >= duration('30d')" }

lifecycle {
  initial: "new"
  stage: ["new", "active", "engaged", "mql", "sql", "customer", "advocate", "dormant"]
  transition { from: "new" to: "active" when: "score.engagement >= 10" }
  transition { from: "active" to: "engaged" when: "score.engagement >= 40" }
  transition { from: ["active", "engaged"] to: "mql"
               when: "score.lead >= 100 && !('disqualified' in tags)" }
  transition { from: "mql" to: "sql" on: "sales.accept" }
  transition { from: "*" to: "customer" on: "order.paid" }
  transition { from: "customer" to: "advocate" when: "counter.invites >= 1" }
  transition { from: ["new", "active", "engaged", "mql"] to: "dormant"
               when: "idle >= duration('60d')" }
  transition { from: "dormant" to: "active" on: "*" }
}

# The sales threshold: raise at lead >= 100, re-arm below 70, at most once in 14 days.
flag {
  name: "sales_ready"
  when: "score.lead >= 100 && !('disqualified' in tags)"
  rearm: "score.lead < 70"
  cooldown: "14d"
  top_reasons: 3
}
)pb";

inline std::shared_ptr<const Model> CommunityModel() {
  static const std::shared_ptr<const Model> model = [] {
    auto m = Model::LoadText(kCommunityModel, "community.textproto");
    if (!m.ok()) abort();
    return *m;
  }();
  return model;
}

class CountingSink : public ChangeSink {
 public:
  void OnChange(const Change& c) override { ++changes; }
  int64_t changes = 0;
};

inline void Exercise(const std::shared_ptr<const Model>& model) {
  Store store(model);
  CountingSink sink;
  const char* types[] = {"a.b", "a.c", "x", "", "order.paid"};
  const KeyValue attrs[] = {{"topic", "tax"}, {"k", "12"}};
  const KeyValue profile[] = {{"k", "v"}, {"role", "decision_maker"}, {"employees", "250"}};
  int64_t t = 1700000000000;
  for (int i = 0; i < 40; ++i) {
    std::string id = "e" + std::to_string(i % 33);
    std::string member = "m" + std::to_string(i % 3);
    Event e;
    e.event_id = id;
    e.member_id = member;
    e.has_time = true;
    e.time = t + (i % 7 == 3 ? -86400000LL * 2 : 3600000LL * i * i);
    e.type = types[i % 5];
    e.value = i * 1.5 - 10;
    e.attrs = absl::MakeConstSpan(attrs, i % 3);
    e.profile = absl::MakeConstSpan(profile, i % 4);
    store.Apply(e, &sink);
    if (i % 10 == 9) store.AdvanceAll(e.time + 86400000LL * i, &sink);
  }
  for (const auto& id : store.MemberIds()) (void)store.Read(id, t + 86400000LL * 400);
}

}  // namespace leadscore::fuzz

#endif  // LEADSCORE_TESTS_FUZZ_FUZZ_UTIL_H_
