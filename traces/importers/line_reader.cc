#include "traces/importers/line_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace traces {
namespace {

using replay::internal::ByteSource;

// Inflates a gzip stream (several members allowed, as `cat a.gz b.gz`).
class GzipSource final : public ByteSource {
 public:
  explicit GzipSource(std::unique_ptr<ByteSource> inner)
      : inner_(std::move(inner)), buffer_(1 << 16, '\0') {}
  ~GzipSource() override {
    if (initialised_) inflateEnd(&stream_);
  }

  absl::StatusOr<std::size_t> Read(char* data, std::size_t size) override {
    size = std::min<std::size_t>(size, 1 << 30);
    if (size == 0 || finished_) return 0;
    if (!initialised_) {
      if (inflateInit2(&stream_, 15 + 32) != Z_OK) {
        return absl::ResourceExhaustedError("gzip: cannot initialise zlib");
      }
      initialised_ = true;
    }
    stream_.next_out = reinterpret_cast<Bytef*>(data);
    stream_.avail_out = static_cast<uInt>(size);
    while (stream_.avail_out == size) {  // Until something comes out.
      if (stream_.avail_in == 0 && !inner_eof_) {
        absl::StatusOr<std::size_t> n = inner_->Read(buffer_.data(), buffer_.size());
        if (!n.ok()) return n.status();
        inner_eof_ = *n == 0;
        stream_.next_in = reinterpret_cast<Bytef*>(buffer_.data());
        stream_.avail_in = static_cast<uInt>(*n);
      }
      if (stream_.avail_in == 0 && inner_eof_) {
        if (in_member_) {
          return absl::DataLossError("gzip: the stream ends inside a member (truncated file)");
        }
        finished_ = true;
        return 0;
      }
      in_member_ = true;
      const int ret = inflate(&stream_, Z_NO_FLUSH);
      if (ret == Z_STREAM_END) {
        in_member_ = false;
        inflateReset(&stream_);  // Another member may follow.
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        return absl::DataLossError(
            absl::StrCat("gzip: ", stream_.msg != nullptr ? stream_.msg : "corrupt stream"));
      }
    }
    return size - stream_.avail_out;
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::string buffer_;
  z_stream stream_{};
  bool initialised_ = false;
  bool inner_eof_ = false;
  bool in_member_ = false;
  bool finished_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<ByteSource>> file = replay::internal::OpenFileSource(path);
  if (!file.ok()) return file.status();
  bool zstd = false;
  absl::StatusOr<std::unique_ptr<ByteSource>> source =
      replay::internal::MaybeDecompress(*std::move(file), &zstd);
  if (!source.ok())
    return absl::Status(source.status().code(),
                        absl::StrCat(path, ": ", source.status().message()));
  if (!zstd) {
    // Peek for the gzip magic 1F 8B and replay what was peeked.
    std::string prefix(2, '\0');
    std::size_t have = 0;
    while (have < prefix.size()) {
      absl::StatusOr<std::size_t> n = (*source)->Read(prefix.data() + have, prefix.size() - have);
      if (!n.ok()) return absl::DataLossError(absl::StrCat(path, ": ", n.status().message()));
      if (*n == 0) break;
      have += *n;
    }
    prefix.resize(have);
    const bool gzip = prefix == "\x1f\x8b";
    *source = replay::internal::PrefixedSource(std::move(prefix), *std::move(source));
    if (gzip) *source = std::make_unique<GzipSource>(*std::move(source));
  }
  return std::unique_ptr<LineReader>(new LineReader(path, *std::move(source)));
}

absl::StatusOr<bool> LineReader::Next(std::string* line) {
  while (true) {
    const std::size_t newline = buffer_.find('\n', begin_);
    if (newline != std::string::npos || (eof_ && begin_ < buffer_.size())) {
      const std::size_t end = newline == std::string::npos ? buffer_.size() : newline;
      line->assign(buffer_, begin_, end - begin_);
      if (!line->empty() && line->back() == '\r') line->pop_back();
      begin_ = newline == std::string::npos ? buffer_.size() : newline + 1;
      ++line_number_;
      return true;
    }
    if (eof_) return false;
    if (buffer_.size() - begin_ > kMaxLineLength) {
      return absl::InvalidArgumentError(absl::StrCat(path_, ": line ", line_number_ + 1,
                                                     ": longer than ", kMaxLineLength,
                                                     " bytes (expected a line-based text file)"));
    }
    buffer_.erase(0, begin_);
    begin_ = 0;
    const std::size_t old_size = buffer_.size();
    buffer_.resize(old_size + (1 << 16));
    absl::StatusOr<std::size_t> n = source_->Read(buffer_.data() + old_size, 1 << 16);
    if (!n.ok()) {
      return absl::DataLossError(
          absl::StrCat(path_, ": line ", line_number_ + 1, ": ", n.status().message()));
    }
    buffer_.resize(old_size + *n);
    eof_ = *n == 0;
  }
}

}  // namespace traces
