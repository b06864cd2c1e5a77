// Byte streams under the trace reader and writer (internal to //replay:trace_io):
// files, memory, and streaming zstd on top of either, so that a trace of any
// length is read and written in bounded memory.
#ifndef REPLAY_BYTE_IO_H_
#define REPLAY_BYTE_IO_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace replay::internal {

// A source of bytes. Errors carry no file name or offset: the caller adds them.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes into `data`; 0 means the end of the stream.
  virtual absl::StatusOr<std::size_t> Read(char* data, std::size_t size) = 0;
  // How far through the underlying file or buffer reading is, in [0, 1]
  // (0 when unknown): for progress bars.
  virtual double fraction_read() const { return 0; }
};

// Opens `path` for reading: NotFound if it does not exist.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);
std::unique_ptr<ByteSource> MemorySource(std::string bytes);
// Replays `prefix` (bytes peeked from `rest`), then continues with `rest`.
std::unique_ptr<ByteSource> PrefixedSource(std::string prefix, std::unique_ptr<ByteSource> rest);
// Returns `source` itself, or a decompressing source over it when it starts
// with the zstd frame magic number (0xFD2FB528). *compressed says which.
absl::StatusOr<std::unique_ptr<ByteSource>> MaybeDecompress(std::unique_ptr<ByteSource> source,
                                                            bool* compressed);

// Reads exactly what is asked unless the stream ends, and counts bytes.
class InputStream {
 public:
  explicit InputStream(std::unique_ptr<ByteSource> source) : source_(std::move(source)) {}
  // Reads up to `size` bytes, fewer only at the end of the stream.
  absl::StatusOr<std::size_t> ReadUpTo(char* data, std::size_t size);
  // Bytes consumed so far.
  std::uint64_t offset() const { return offset_; }
  double fraction_read() const { return source_->fraction_read(); }

 private:
  std::unique_ptr<ByteSource> source_;
  std::string buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint64_t offset_ = 0;
  bool eof_ = false;
};

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual absl::Status Write(const char* data, std::size_t size) = 0;
  // Flushes and closes; the sink is unusable afterwards.
  virtual absl::Status Close() = 0;
};

absl::StatusOr<std::unique_ptr<ByteSink>> OpenFileSink(const std::string& path);
// Compresses into `inner` as one zstd frame (with its content checksum).
absl::StatusOr<std::unique_ptr<ByteSink>> ZstdSink(std::unique_ptr<ByteSink> inner);

}  // namespace replay::internal

#endif  // REPLAY_BYTE_IO_H_
