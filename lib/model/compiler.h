// The model compiler: checks a parsed v1::Model and turns it into a
// CompiledModel, reporting every problem at once with its position.
#ifndef LEADSCORE_LIB_MODEL_COMPILER_H_
#define LEADSCORE_LIB_MODEL_COMPILER_H_

#include <memory>
#include <string>
#include <vector>

#include "leadscore/model.h"
#include "lib/model/compiled_model.h"
#include "lib/model/source_map.h"

namespace leadscore::v1 {
class Model;
}

namespace leadscore::internal {

// Returns null when there are problems; every problem is appended to
// `diagnostics` (positions from `source`, or the field path when unknown).
std::unique_ptr<CompiledModel> CompileModel(const v1::Model& proto,
                                            const SourceMap& source,
                                            const std::string& filename,
                                            const ModelLimits& limits,
                                            std::vector<Diagnostic>* diagnostics);

}  // namespace leadscore::internal

#endif  // LEADSCORE_LIB_MODEL_COMPILER_H_
