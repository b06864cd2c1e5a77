#include "replay/event_pipe.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>

#include "absl/strings/str_cat.h"

namespace replay {
namespace {

static_assert(std::is_trivially_copyable_v<Event>);

constexpr std::uint64_t kMaxBatch = std::uint64_t{1} << 16;  // Events per frame.

enum FrameKind : std::uint32_t { kBatch = 0xBA7C4001, kError = 0xE4404002, kEnd = 0xE0D04003 };

struct FrameHeader {
  std::uint32_t kind;
  std::uint32_t code;   // kError: the status code.
  std::uint64_t first;  // kBatch: index of the first event.
  std::uint64_t count;  // kBatch: events; kError: message bytes.
};

// Writes all of `data`; false if the reader has gone (EPIPE) or on error.
bool WriteFully(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    // send() on the socket the parent uses: a closed reader is EPIPE, not SIGPIPE.
    ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes; returns the bytes read (short at end of file).
absl::StatusOr<std::size_t> ReadFully(int fd, void* data, std::size_t size) {
  char* p = static_cast<char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, p + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("event pipe: ", std::strerror(errno)));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

}  // namespace

absl::Status SendEvents(TraceReader& reader, int fd, const ProgressFn& progress) {
  const absl::Status cancelled = absl::CancelledError("the replay child stopped reading");
  std::vector<Event> batch;
  for (;;) {
    const absl::Status status = reader.Next(&batch);
    if (!status.ok()) {
      const std::string message(status.message());
      const FrameHeader h{kError, static_cast<std::uint32_t>(status.code()), 0, message.size()};
      if (WriteFully(fd, &h, sizeof h)) WriteFully(fd, message.data(), message.size());
      return status;
    }
    if (progress) progress(reader.fraction_read(), reader.events_read());
    if (batch.empty()) break;
    // A chunk may be larger than the receiver takes in one frame.
    const std::uint64_t first = reader.events_read() - batch.size();
    for (std::size_t at = 0; at < batch.size(); at += kMaxBatch) {
      const std::size_t n = std::min<std::size_t>(kMaxBatch, batch.size() - at);
      const FrameHeader h{kBatch, 0, first + at, n};
      if (!WriteFully(fd, &h, sizeof h) || !WriteFully(fd, &batch[at], n * sizeof(Event))) {
        return cancelled;
      }
    }
  }
  const FrameHeader end{kEnd, 0, 0, 0};
  return WriteFully(fd, &end, sizeof end) ? absl::OkStatus() : cancelled;
}

absl::Status PipeEventSource::Next(absl::Span<const Event>* batch, std::uint64_t* first) {
  *batch = {};
  *first = 0;
  if (ended_) return absl::OkStatus();
  FrameHeader h;
  absl::StatusOr<std::size_t> got = ReadFully(fd_, &h, sizeof h);
  if (!got.ok()) return got.status();
  if (*got != sizeof h) {
    return absl::AbortedError(
        absl::StrCat(name_, ": the event stream from the parent ended without its end frame"));
  }
  switch (h.kind) {
    case kEnd:
      ended_ = true;
      return absl::OkStatus();
    case kError: {
      std::string message(h.count, '\0');
      got = ReadFully(fd_, message.data(), message.size());
      if (!got.ok()) return got.status();
      return absl::Status(static_cast<absl::StatusCode>(h.code), message);
    }
    case kBatch: {
      if (h.count == 0 || h.count > kMaxBatch) {
        return absl::InternalError(
            absl::StrCat(name_, ": a batch of ", h.count, " events on the event pipe"));
      }
      batch_.resize(h.count);
      got = ReadFully(fd_, batch_.data(), h.count * sizeof(Event));
      if (!got.ok()) return got.status();
      if (*got != h.count * sizeof(Event)) {
        return absl::AbortedError(absl::StrCat(name_, ": the event stream broke off in a batch"));
      }
      *batch = batch_;
      *first = h.first;
      return absl::OkStatus();
    }
  }
  return absl::InternalError(
      absl::StrCat(name_, ": bad frame 0x", absl::Hex(h.kind), " on the event pipe"));
}

}  // namespace replay
