#include "replay/byte_io.h"

#include <sys/stat.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace replay::internal {
namespace {

constexpr std::size_t kBufferSize = 1 << 16;

class FileSource final : public ByteSource {
 public:
  explicit FileSource(std::FILE* file) : file_(file) {
    struct stat st;
    if (fstat(fileno(file), &st) == 0 && S_ISREG(st.st_mode)) size_ = st.st_size;
  }
  ~FileSource() override { std::fclose(file_); }

  absl::StatusOr<std::size_t> Read(char* data, std::size_t size) override {
    const std::size_t n = std::fread(data, 1, size, file_);
    if (n < size && std::ferror(file_)) {
      return absl::DataLossError(absl::StrCat("read error: ", std::strerror(errno)));
    }
    read_ += n;
    return n;
  }
  double fraction_read() const override {
    return size_ > 0 ? std::min(1.0, static_cast<double>(read_) / static_cast<double>(size_)) : 0;
  }

 private:
  std::FILE* file_;
  std::uint64_t size_ = 0;  // 0: not a regular file.
  std::uint64_t read_ = 0;
};

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::StatusOr<std::size_t> Read(char* data, std::size_t size) override {
    const std::size_t n = std::min(size, bytes_.size() - pos_);
    std::memcpy(data, bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string bytes_;
  std::size_t pos_ = 0;
};

// Replays a few peeked bytes, then continues with the source they came from.
class Prefixed final : public ByteSource {
 public:
  Prefixed(std::string prefix, std::unique_ptr<ByteSource> rest)
      : prefix_(std::move(prefix)), rest_(std::move(rest)) {}
  double fraction_read() const override { return rest_->fraction_read(); }
  absl::StatusOr<std::size_t> Read(char* data, std::size_t size) override {
    if (pos_ < prefix_.size()) {
      const std::size_t n = std::min(size, prefix_.size() - pos_);
      std::memcpy(data, prefix_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return rest_->Read(data, size);
  }

 private:
  std::string prefix_;
  std::size_t pos_ = 0;
  std::unique_ptr<ByteSource> rest_;
};

class ZstdSource final : public ByteSource {
 public:
  ZstdSource(std::unique_ptr<ByteSource> inner, ZSTD_DCtx* ctx)
      : inner_(std::move(inner)), ctx_(ctx), buffer_(ZSTD_DStreamInSize(), '\0') {}
  ~ZstdSource() override { ZSTD_freeDCtx(ctx_); }
  double fraction_read() const override { return inner_->fraction_read(); }

  absl::StatusOr<std::size_t> Read(char* data, std::size_t size) override {
    if (size == 0) return 0;
    ZSTD_outBuffer out = {data, size, 0};
    while (true) {
      if (in_.pos == in_.size && !inner_eof_) {
        absl::StatusOr<std::size_t> n = inner_->Read(buffer_.data(), buffer_.size());
        if (!n.ok()) return n.status();
        if (*n == 0) inner_eof_ = true;
        in_ = {buffer_.data(), *n, 0};
      }
      const std::size_t consumed_before = in_.pos;
      const std::size_t ret = ZSTD_decompressStream(ctx_, &out, &in_);
      if (ZSTD_isError(ret)) {
        return absl::DataLossError(absl::StrCat("zstd: ", ZSTD_getErrorName(ret)));
      }
      // A call that moved nothing (at a clean end, after a complete frame)
      // answers with the next frame's header size: keep the last real answer.
      if (in_.pos != consumed_before || out.pos != 0) last_ret_ = ret;
      if (out.pos > 0) return out.pos;
      if (in_.pos == in_.size && inner_eof_) {
        if (last_ret_ != 0) {
          return absl::DataLossError(
              "zstd: the compressed stream ends inside a frame (truncated file)");
        }
        return 0;
      }
    }
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  ZSTD_DCtx* ctx_;
  std::string buffer_;
  ZSTD_inBuffer in_ = {nullptr, 0, 0};
  bool inner_eof_ = false;
  std::size_t last_ret_ = 1;
};

class FileSink final : public ByteSink {
 public:
  explicit FileSink(std::FILE* file) : file_(file) {}
  ~FileSink() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  absl::Status Write(const char* data, std::size_t size) override {
    if (file_ == nullptr) return absl::FailedPreconditionError("write after close");
    if (std::fwrite(data, 1, size, file_) != size) {
      return absl::DataLossError(absl::StrCat("write error: ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  absl::Status Close() override {
    if (file_ == nullptr) return absl::FailedPreconditionError("already closed");
    std::FILE* file = std::exchange(file_, nullptr);
    const bool write_failed = std::fflush(file) != 0 || std::ferror(file);
    const int saved_errno = errno;
    if (std::fclose(file) != 0 || write_failed) {
      return absl::DataLossError(
          absl::StrCat("write error: ", std::strerror(write_failed ? saved_errno : errno)));
    }
    return absl::OkStatus();
  }

 private:
  std::FILE* file_;
};

class ZstdCompressSink final : public ByteSink {
 public:
  ZstdCompressSink(std::unique_ptr<ByteSink> inner, ZSTD_CCtx* ctx)
      : inner_(std::move(inner)), ctx_(ctx), buffer_(ZSTD_CStreamOutSize(), '\0') {}
  ~ZstdCompressSink() override { ZSTD_freeCCtx(ctx_); }

  absl::Status Write(const char* data, std::size_t size) override {
    ZSTD_inBuffer in = {data, size, 0};
    while (in.pos < in.size) {
      if (absl::Status s = Step(&in, ZSTD_e_continue).status(); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    ZSTD_inBuffer in = {nullptr, 0, 0};
    while (true) {
      absl::StatusOr<std::size_t> remaining = Step(&in, ZSTD_e_end);
      if (!remaining.ok()) return remaining.status();
      if (*remaining == 0) break;
    }
    return inner_->Close();
  }

 private:
  absl::StatusOr<std::size_t> Step(ZSTD_inBuffer* in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer out = {buffer_.data(), buffer_.size(), 0};
    const std::size_t ret = ZSTD_compressStream2(ctx_, &out, in, mode);
    if (ZSTD_isError(ret)) {
      return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(ret)));
    }
    if (absl::Status s = inner_->Write(buffer_.data(), out.pos); !s.ok()) return s;
    return ret;
  }

  std::unique_ptr<ByteSink> inner_;
  ZSTD_CCtx* ctx_;
  std::string buffer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::Status(absl::ErrnoToStatusCode(error),
                        absl::StrCat(path, ": cannot open: ", std::strerror(error)));
  }
  return std::make_unique<FileSource>(file);
}

std::unique_ptr<ByteSource> MemorySource(std::string bytes) {
  return std::make_unique<StringSource>(std::move(bytes));
}

std::unique_ptr<ByteSource> PrefixedSource(std::string prefix, std::unique_ptr<ByteSource> rest) {
  return std::make_unique<Prefixed>(std::move(prefix), std::move(rest));
}

absl::StatusOr<std::unique_ptr<ByteSource>> MaybeDecompress(std::unique_ptr<ByteSource> source,
                                                            bool* compressed) {
  std::string prefix(4, '\0');
  std::size_t have = 0;
  while (have < prefix.size()) {
    absl::StatusOr<std::size_t> n = source->Read(prefix.data() + have, prefix.size() - have);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    have += *n;
  }
  prefix.resize(have);
  static constexpr char kZstdMagic[4] = {'\x28', '\xB5', '\x2F', '\xFD'};
  *compressed = have == 4 && std::memcmp(prefix.data(), kZstdMagic, 4) == 0;
  auto whole = PrefixedSource(std::move(prefix), std::move(source));
  if (!*compressed) return whole;
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return absl::ResourceExhaustedError("zstd: cannot create a context");
  return std::make_unique<ZstdSource>(std::move(whole), ctx);
}

absl::StatusOr<std::size_t> InputStream::ReadUpTo(char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    if (begin_ == end_) {
      if (eof_) break;
      if (size - done >= kBufferSize) {  // Large reads bypass the buffer.
        absl::StatusOr<std::size_t> n = source_->Read(data + done, size - done);
        if (!n.ok()) return n.status();
        if (*n == 0) eof_ = true;
        done += *n;
        offset_ += *n;
        continue;
      }
      buffer_.resize(kBufferSize);
      absl::StatusOr<std::size_t> n = source_->Read(buffer_.data(), buffer_.size());
      if (!n.ok()) return n.status();
      if (*n == 0) eof_ = true;
      begin_ = 0;
      end_ = *n;
      continue;
    }
    const std::size_t n = std::min(size - done, end_ - begin_);
    std::memcpy(data + done, buffer_.data() + begin_, n);
    begin_ += n;
    done += n;
    offset_ += n;
  }
  return done;
}

absl::StatusOr<std::unique_ptr<ByteSink>> OpenFileSink(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    const int error = errno;
    return absl::Status(absl::ErrnoToStatusCode(error),
                        absl::StrCat(path, ": cannot create: ", std::strerror(error)));
  }
  return std::make_unique<FileSink>(file);
}

absl::StatusOr<std::unique_ptr<ByteSink>> ZstdSink(std::unique_ptr<ByteSink> inner) {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  if (ctx == nullptr) return absl::ResourceExhaustedError("zstd: cannot create a context");
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, 1);
  return std::make_unique<ZstdCompressSink>(std::move(inner), ctx);
}

}  // namespace replay::internal
