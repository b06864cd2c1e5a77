// TraceWriter: buffers one chunk of events column by column, writes framed
// records (type, varint length, payload, CRC-32C) and the footer on Close().
#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "replay/byte_io.h"
#include "replay/crc32c.h"
#include "replay/trace_format.h"
#include "replay/trace_io.h"

namespace replay {
namespace {

using internal::ByteSink;

// Which optional columns of the chunk being built hold a non-zero value; the
// others are left out of the record (an absent column means all zeros).
struct UsedColumns {
  bool ids = false, new_ids = false, sizes = false, alignments = false, flavours = false;
  bool threads = false, time_deltas = false, sites = false, pool_hints = false, slots = false;
};

class TraceWriterImpl final : public TraceWriter {
 public:
  TraceWriterImpl(std::string path, std::unique_ptr<ByteSink> sink, std::size_t events_per_chunk)
      : path_(std::move(path)), sink_(std::move(sink)), events_per_chunk_(events_per_chunk) {}

  ~TraceWriterImpl() override {
    // Without Close() the file has no footer, and readers report it truncated.
    if (!closed_) sink_->Close().IgnoreError();
  }

  absl::Status WriteHeader(const traces::TraceHeader& header) {
    traces::TraceHeader copy = header;
    copy.set_format_version(internal::kFormatVersion);
    internal::MakeHeaderUtf8(&copy);
    std::string magic(internal::kMagic, sizeof(internal::kMagic));
    magic.push_back(static_cast<char>(internal::kFormatVersion));
    if (absl::Status s = sink_->Write(magic.data(), magic.size()); !s.ok()) return Fail(s);
    return WriteRecord(internal::kHeaderRecord, copy);
  }

  absl::Status Write(const Event& event) override {
    if (closed_) return absl::FailedPreconditionError(absl::StrCat(path_, ": write after Close()"));
    if (!status_.ok()) return status_;
    if (std::string problem = internal::EventProblem(event); !problem.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": event ", totals_.event_count, ": ", problem));
    }
    if (chunk_.kinds_size() == 0) chunk_.set_first_event(totals_.event_count);
    chunk_.add_kinds(static_cast<std::uint32_t>(event.kind));
    chunk_.add_ids(event.id);
    chunk_.add_new_ids(event.new_id);
    chunk_.add_sizes(event.size);
    chunk_.add_alignments(event.alignment);
    chunk_.add_flavours(static_cast<std::uint32_t>(event.flavour));
    chunk_.add_threads(event.thread);
    const auto delta = static_cast<std::int64_t>(event.time_ns - last_time_ns_);
    chunk_.add_time_deltas(delta);
    chunk_.add_sites(event.site);
    chunk_.add_pool_hints(event.pool_hint);
    chunk_.add_slots(event.slots);
    used_.ids |= event.id != 0;
    used_.new_ids |= event.new_id != 0;
    used_.sizes |= event.size != 0;
    used_.alignments |= event.alignment != 0;
    used_.flavours |= event.flavour != Flavour::kMalloc;
    used_.threads |= event.thread != 0;
    used_.time_deltas |= delta != 0;
    used_.sites |= event.site != 0;
    used_.pool_hints |= event.pool_hint != 0;
    used_.slots |= event.slots != 0;
    last_time_ns_ = event.time_ns;
    totals_.Add(event);
    if (static_cast<std::size_t>(chunk_.kinds_size()) >= events_per_chunk_) return FlushChunk();
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (closed_) return absl::FailedPreconditionError(absl::StrCat(path_, ": already closed"));
    if (status_.ok()) {
      if (absl::Status s = FlushChunk(); !s.ok()) status_ = s;
    }
    if (status_.ok()) {
      if (absl::Status s = WriteRecord(internal::kFooterRecord, totals_.ToFooter()); !s.ok()) {
        status_ = s;
      }
    }
    closed_ = true;
    absl::Status closed = sink_->Close();
    if (status_.ok() && !closed.ok()) status_ = Fail(closed);
    return status_;
  }

 private:
  absl::Status Fail(const absl::Status& status) {
    status_ = absl::Status(status.code(), absl::StrCat(path_, ": ", status.message()));
    return status_;
  }

  absl::Status FlushChunk() {
    if (chunk_.kinds_size() == 0) return absl::OkStatus();
    if (!used_.ids) chunk_.clear_ids();
    if (!used_.new_ids) chunk_.clear_new_ids();
    if (!used_.sizes) chunk_.clear_sizes();
    if (!used_.alignments) chunk_.clear_alignments();
    if (!used_.flavours) chunk_.clear_flavours();
    if (!used_.threads) chunk_.clear_threads();
    if (!used_.time_deltas) chunk_.clear_time_deltas();
    if (!used_.sites) chunk_.clear_sites();
    if (!used_.pool_hints) chunk_.clear_pool_hints();
    if (!used_.slots) chunk_.clear_slots();
    ++totals_.chunk_count;
    absl::Status s = WriteRecord(internal::kChunkRecord, chunk_);
    chunk_.Clear();
    used_ = UsedColumns();
    return s;
  }

  absl::Status WriteRecord(internal::RecordType type, const google::protobuf::MessageLite& msg) {
    payload_.clear();
    if (!msg.AppendToString(&payload_)) {
      return Fail(absl::InternalError(
          absl::StrCat("cannot serialize the ", internal::RecordTypeName(type), " record")));
    }
    record_.clear();
    record_.push_back(static_cast<char>(type));
    internal::AppendVarint(&record_, payload_.size());
    record_.append(payload_);
    const std::uint32_t crc = Crc32c(payload_.data(), payload_.size());
    for (int i = 0; i < 4; ++i) record_.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
    if (absl::Status s = sink_->Write(record_.data(), record_.size()); !s.ok()) return Fail(s);
    return absl::OkStatus();
  }

  std::string path_;
  std::unique_ptr<ByteSink> sink_;
  std::size_t events_per_chunk_;
  traces::EventChunk chunk_;
  UsedColumns used_;
  internal::Totals totals_;
  std::uint64_t last_time_ns_ = 0;
  std::string payload_;
  std::string record_;
  absl::Status status_;
  bool closed_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TraceWriter>> TraceWriter::Open(const std::string& path,
                                                               const traces::TraceHeader& header,
                                                               TraceWriterOptions options) {
  absl::StatusOr<std::unique_ptr<ByteSink>> sink = internal::OpenFileSink(path);
  if (!sink.ok()) return sink.status();
  if (options.compress || absl::EndsWith(path, ".zst")) {
    sink = internal::ZstdSink(*std::move(sink));
    if (!sink.ok()) return sink.status();
  }
  const std::size_t per_chunk =
      std::clamp<std::size_t>(options.events_per_chunk, 1, internal::kMaxEventsPerChunk);
  auto writer = std::make_unique<TraceWriterImpl>(path, *std::move(sink), per_chunk);
  if (absl::Status s = writer->WriteHeader(header); !s.ok()) return s;
  return writer;
}

}  // namespace replay
