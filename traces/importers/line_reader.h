// Reads a text file line by line, plain, gzip or zstd (detected from the
// content, as heaptrack writes either), in bounded memory.
#ifndef TRACES_IMPORTERS_LINE_READER_H_
#define TRACES_IMPORTERS_LINE_READER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay/byte_io.h"

namespace traces {

class LineReader {
 public:
  // Lines longer than this are an error: the input is not line-based text.
  static constexpr std::size_t kMaxLineLength = 1 << 20;

  // NotFound if `path` does not exist.
  static absl::StatusOr<std::unique_ptr<LineReader>> Open(const std::string& path);

  // Reads the next line without its "\n" (and "\r") into *line. Returns
  // false at the end of the input; errors name the file and line.
  absl::StatusOr<bool> Next(std::string* line);
  // The number of the line last returned (1-based).
  std::uint64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }

 private:
  LineReader(std::string path, std::unique_ptr<replay::internal::ByteSource> source)
      : path_(std::move(path)), source_(std::move(source)) {}

  std::string path_;
  std::unique_ptr<replay::internal::ByteSource> source_;
  std::string buffer_;
  std::size_t begin_ = 0;
  bool eof_ = false;
  std::uint64_t line_number_ = 0;
};

}  // namespace traces

#endif  // TRACES_IMPORTERS_LINE_READER_H_
