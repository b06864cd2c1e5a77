// Elephant Tracks traces (ET1 / ET3 style, one record per line):
//   A|N|I|P|V ID SIZE TYPE SITE [LENGTH] THREAD   allocation (LENGTH: arrays)
//   U OLD_TARGET OBJECT NEW_TARGET FIELD THREAD   pointer update
//   D ID THREAD                                   death (Merlin)
//   R ID THREAD                                   root
//   M, E, X, T, H ...                             methods etc.: ignored
// Numbers are decimal, or hex with "0x". The result is a GC trace: ALLOC
// with slots, STORE, DEATH, ROOT_ADD. See traces/importers/DESIGN.md for the
// choice of slots and of field-to-slot numbering.
#ifndef TRACES_IMPORTERS_ELEPHANT_H_
#define TRACES_IMPORTERS_ELEPHANT_H_

#include <string>

#include "absl/status/status.h"
#include "traces/importers/importer.h"

namespace traces {

absl::Status ImportElephant(const std::string& in_path, const std::string& out_path, bool lenient,
                            ImportStats* stats);

}  // namespace traces

#endif  // TRACES_IMPORTERS_ELEPHANT_H_
