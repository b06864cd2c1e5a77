// Importers of other tools' allocation traces into workbench traces
// (`workbench import FORMAT IN -o OUT.trace`). Every importer has the shape
// of replay::ImportTextTrace: strict by default (the first bad line is the
// error, naming the file, line and what was expected), or lenient (bad lines
// are counted and skipped); the output file is removed on error. See
// traces/importers/DESIGN.md.
#ifndef TRACES_IMPORTERS_IMPORTER_H_
#define TRACES_IMPORTERS_IMPORTER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "replay/trace_io.h"

namespace traces {

// Lines read, events written, bad lines skipped and the first errors.
using ImportStats = replay::TextImportStats;

using ImportFn = absl::Status (*)(const std::string& in_path, const std::string& out_path,
                                  bool lenient, ImportStats* stats);

// The importer for `format` ("text", "mtrace", "heaptrack" or "elephant"), or nullptr.
ImportFn FindImporter(absl::string_view format);
inline constexpr const char* kImportFormats = "text, mtrace, heaptrack or elephant";

}  // namespace traces

#endif  // TRACES_IMPORTERS_IMPORTER_H_
