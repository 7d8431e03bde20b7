// Debian's Abseil is built with its own absl::string_view (not an alias of
// std::string_view). Our APIs use std::string_view; this converts at the
// boundary with Abseil (StrCat, heterogeneous hash-map lookup).
#ifndef LEADSCORE_LIB_BASE_STRINGS_H_
#define LEADSCORE_LIB_BASE_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace leadscore {

inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace leadscore

#endif  // LEADSCORE_LIB_BASE_STRINGS_H_
