// A table of results, written as aligned text for terminals, CSV or JSON
// for tools. Cells are strings; a column is right-aligned when it is numeric.
// A table may end in a group of columns for tools only (a policy's
// counters): a JSON object in each row, holding the group's non-empty
// cells; CSV columns "group.column"; left out of text, which is for people
// and shows such figures its own way.
#ifndef TOOLS_CLI_TABLE_H_
#define TOOLS_CLI_TABLE_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"

// --format, shared by every command that prints a table.
ABSL_DECLARE_FLAG(std::string, format);

namespace cli {

enum class TableFormat { kText, kCsv, kJson };

absl::StatusOr<TableFormat> ParseTableFormat(const std::string& name);

class Table {
 public:
  explicit Table(std::vector<std::string> columns)
      : columns_(std::move(columns)), group_from_(columns_.size()) {}
  // Makes columns `columns` a group called `name` after the others. Before
  // any row is added.
  void AddGroup(const std::string& name, const std::vector<std::string>& columns);
  // Adds a row; it must have one cell per column (the group's last; cells
  // left out are empty).
  void AddRow(std::vector<std::string> cells);
  void Write(std::ostream& os, TableFormat format) const;

 private:
  void WriteText(std::ostream& os) const;
  void WriteCsv(std::ostream& os) const;
  void WriteJson(std::ostream& os) const;

  std::vector<std::string> columns_;
  std::string group_;
  std::size_t group_from_ = 0;  // The group's first column; columns_.size() if none.
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace cli

#endif  // TOOLS_CLI_TABLE_H_
