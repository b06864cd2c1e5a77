#include "traces/importers/importer.h"

#include "traces/importers/elephant.h"
#include "traces/importers/heaptrack.h"
#include "traces/importers/mtrace.h"

namespace traces {

ImportFn FindImporter(absl::string_view format) {
  if (format == "text") {
    return static_cast<ImportFn>(&replay::ImportTextTrace);
  }
  if (format == "mtrace") return &ImportMtrace;
  if (format == "heaptrack") return &ImportHeaptrack;
  if (format == "elephant") return &ImportElephant;
  return nullptr;
}

}  // namespace traces
