#include "tools/cli/table.h"

#include <algorithm>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, format, "table", "Output format: table, csv or json.");

namespace cli {
namespace {

bool IsNumber(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

std::string CsvQuote(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrCat("\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<TableFormat> ParseTableFormat(const std::string& name) {
  if (name == "table" || name == "text") return TableFormat::kText;
  if (name == "csv") return TableFormat::kCsv;
  if (name == "json") return TableFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown output format '", name, "': expected table, csv or json"));
}

void Table::AddGroup(const std::string& name, const std::vector<std::string>& columns) {
  group_ = name;
  group_from_ = columns_.size();
  columns_.insert(columns_.end(), columns.begin(), columns.end());
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

void Table::Write(std::ostream& os, TableFormat format) const {
  switch (format) {
    case TableFormat::kText:
      return WriteText(os);
    case TableFormat::kCsv:
      return WriteCsv(os);
    case TableFormat::kJson:
      return WriteJson(os);
  }
}

void Table::WriteText(std::ostream& os) const {
  std::vector<std::size_t> width(group_from_);
  std::vector<bool> numeric(group_from_, true);
  for (std::size_t c = 0; c < group_from_; ++c) {
    width[c] = columns_[c].size();
    for (const auto& row : rows_) {
      width[c] = std::max(width[c], row[c].size());
      if (!IsNumber(row[c])) numeric[c] = false;
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < group_from_; ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      if (c > 0) text += "  ";
      text += numeric[c] ? pad + cells[c] : cells[c] + pad;
    }
    text.erase(text.find_last_not_of(' ') + 1);
    os << text << "\n";
  };
  line(columns_);
  std::vector<std::string> rule;
  for (std::size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& row : rows_) line(row);
}

void Table::WriteCsv(std::ostream& os) const {
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) os << (c ? "," : "") << CsvQuote(cells[c]);
    os << "\n";
  };
  std::vector<std::string> header = columns_;
  for (std::size_t c = group_from_; c < header.size(); ++c) header[c] = group_ + "." + header[c];
  line(header);
  for (const auto& row : rows_) line(row);
}

void Table::WriteJson(std::ostream& os) const {
  os << "[";
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    const auto value = [](const std::string& v) { return IsNumber(v) ? v : JsonString(v); };
    os << (r ? ",\n " : "\n ") << "{";
    for (std::size_t c = 0; c < group_from_; ++c) {
      os << (c ? ", " : "") << JsonString(columns_[c]) << ": " << value(rows_[r][c]);
    }
    if (group_from_ < columns_.size()) {
      os << ", " << JsonString(group_) << ": {";
      bool first = true;
      for (std::size_t c = group_from_; c < columns_.size(); ++c) {
        if (rows_[r][c].empty()) continue;
        os << (first ? "" : ", ") << JsonString(columns_[c]) << ": " << value(rows_[r][c]);
        first = false;
      }
      os << "}";
    }
    os << "}";
  }
  os << "\n]\n";
}

}  // namespace cli
