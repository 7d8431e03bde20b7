// members.csv: one row per member as read at the as-of time, for
// spreadsheets. Columns: member_id, stage, stage_since, one "score.NAME" per
// score (model order, derived ones too), tags (names held, sorted, joined
// with ';'), one "counter.NAME" per counter, and per flag
// "flag.NAME.armed" (true/false), "flag.NAME.raised" (count) and
// "flag.NAME.last_raised" (ms). Empty cells: no stage (no lifecycle), no
// raise yet. Numbers as in members.jsonl; cells quoted as RFC 4180 needs;
// text that is not UTF-8 has U+FFFD in place of the bad bytes.
#ifndef LEADSCORE_LIB_IO_MEMBERS_CSV_H_
#define LEADSCORE_LIB_IO_MEMBERS_CSV_H_

#include <string>
#include <string_view>

#include "leadscore/model.h"
#include "leadscore/store.h"

namespace leadscore::io {

// The header row, with its '\n'.
void AppendMemberCsvHeader(std::string* out, const Model& model);
// One row, with its '\n'.
void AppendMemberCsvLine(std::string* out, const Model& model,
                         const MemberView& view);
// Appends `cell` quoted when it holds a comma, a quote or a line break.
void AppendCsvCell(std::string* out, std::string_view cell);

}  // namespace leadscore::io

#endif  // LEADSCORE_LIB_IO_MEMBERS_CSV_H_
