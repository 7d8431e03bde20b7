// libFuzzer target: one condition inside a small fixed model, so every name
// family resolves. Problems must stay inside the text; a condition that
// compiles is evaluated on a few members and must not fail.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_util.h"

namespace {

// Escapes text for a protobuf text-format string literal.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[5];
      snprintf(buf, sizeof buf, "\\%03o", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string cond(reinterpret_cast<const char*>(data), size);
  std::string q = Quote(cond);
  const std::string head =
      "score { name: \"e\" half_life: \"1d\" max: 100 }\n"
      "score { name: \"f\" }\n"
      "score { name: \"lead\" formula: \"score.e + score.f\" }\n"
      "counter { name: \"c\" on: \"a.*\" window: \"2d\" }\n"
      "fit { name: \"fr\" when: \"member.k == 'v'\" score: \"f\" points: 1 }\n"
      "tag { name: \"ev\" on: \"a.b\" ttl: \"1d\" }\n";
  // Where the event is visible: a rule, an event tag, an `on` transition.
  std::string on_event = head +
      "rule { name: \"r\" on: \"*\" when: " + q + " score: \"e\" points: 3 }\n"
      "tag { name: \"s\" on: \"a.*\" when: " + q + " }\n"
      "lifecycle { stage: [\"n\", \"m\"] transition { from: \"*\" to: \"m\" on: \"x\" when: " + q + " } }\n";
  // Where it is not: a state tag, a `when` transition, a flag.
  std::string on_state = head +
      "rule { name: \"r\" on: \"*\" score: \"e\" points: 3 }\n"
      "tag { name: \"s\" when: " + q + " }\n"
      "lifecycle { stage: [\"n\", \"m\"] transition { from: \"*\" to: \"m\" when: " + q + " } }\n"
      "flag { name: \"fl\" when: " + q + " rearm: \"score.e < 1.0\" cooldown: \"1h\" }\n";
  for (const std::string* text : {&on_event, &on_state}) {
    auto model = leadscore::Model::LoadText(*text, "fuzz.textproto");
    if (model.ok()) leadscore::fuzz::Exercise(*model);
  }
  return 0;
}
