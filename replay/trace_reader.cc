// TraceReader: reads framed records one at a time (bounded memory) and
// checks everything traces/FORMAT.md promises, naming the file, the byte
// offset (framing) or event index (contents) and what was expected.
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "replay/byte_io.h"
#include "replay/crc32c.h"
#include "replay/trace_format.h"
#include "replay/trace_io.h"

namespace replay {
namespace {

// A chunk column as read in the decode loop: its values, or (absent) zeros.
template <typename T>
class ColumnReader {
 public:
  explicit ColumnReader(const google::protobuf::RepeatedField<T>& field)
      : data_(field.empty() ? &kZero : field.data()), stride_(field.empty() ? 0 : 1) {}
  T operator[](int i) const { return data_[static_cast<std::size_t>(i) * stride_]; }

 private:
  static constexpr T kZero = 0;
  const T* data_;
  std::size_t stride_;
};

using internal::ByteSource;
using internal::InputStream;

class TraceReaderImpl final : public TraceReader {
 public:
  TraceReaderImpl(std::string path, std::unique_ptr<ByteSource> source, bool compressed)
      : path_(std::move(path)), in_(std::move(source)), compressed_(compressed) {}

  absl::Status ReadStart() {
    char magic[internal::kMagicSize];
    absl::StatusOr<std::size_t> n = in_.ReadUpTo(magic, sizeof(magic));
    if (!n.ok()) return Framing(0, n.status());
    const std::size_t prefix = std::min(*n, sizeof(internal::kMagic));
    if (std::memcmp(magic, internal::kMagic, prefix) != 0 || *n == 0) {
      std::string hint;
      if (*n > 0 && (magic[0] == '#' || (magic[0] >= 'a' && magic[0] <= 'z'))) {
        hint = " (a text trace? convert it with ImportTextTrace)";
      }
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(Where(0), "not a workbench trace: expected the magic \"WBTRACE\", found \"",
                       absl::CHexEscape(absl::string_view(magic, prefix)), "\"", hint)));
    }
    if (*n < sizeof(magic)) {
      return Fail(absl::DataLossError(
          absl::StrCat(Where(*n), "truncated file: it ends inside the 8-byte magic")));
    }
    const int version = static_cast<unsigned char>(magic[7]);
    if (version != static_cast<int>(internal::kFormatVersion)) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(Where(7), "unsupported format version ", version,
                       " (this reader supports version ", internal::kFormatVersion, ")")));
    }
    absl::StatusOr<int> type = ReadRecord();
    if (!type.ok()) return type.status();
    if (*type == kEnd) {
      return Fail(absl::DataLossError(
          absl::StrCat(Where(in_.offset()), "truncated file: it ends before the header record")));
    }
    if (*type != internal::kHeaderRecord) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(Where(record_offset_), "expected the header record, found a ",
                       internal::RecordTypeName(*type), " record")));
    }
    if (!header_.ParseFromString(payload_)) {
      return Fail(absl::DataLossError(absl::StrCat(
          Where(record_offset_), "the header record does not parse as a traces.TraceHeader")));
    }
    if (header_.format_version() != internal::kFormatVersion) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          Where(record_offset_), "header: unsupported format_version ", header_.format_version(),
          " (this reader supports version ", internal::kFormatVersion, ")")));
    }
    return absl::OkStatus();
  }

  const traces::TraceHeader& header() const override { return header_; }
  std::uint64_t events_read() const override { return totals_.event_count; }
  const std::string& path() const override { return path_; }
  double fraction_read() const override { return in_.fraction_read(); }

  absl::Status Next(std::vector<Event>* batch) override {
    batch->clear();
    if (!status_.ok() || done_) return status_;
    absl::StatusOr<int> type = ReadRecord();
    if (!type.ok()) return type.status();
    switch (*type) {
      case kEnd:
        return Fail(absl::DataLossError(
            absl::StrCat(Where(in_.offset()), "event ", totals_.event_count,
                         ": the file ends without a footer record (truncated after ",
                         totals_.chunk_count, " chunks)")));
      case internal::kHeaderRecord:
        return Fail(
            absl::DataLossError(absl::StrCat(Where(record_offset_), "event ", totals_.event_count,
                                             ": a second header record (expected a "
                                             "chunk or the footer)")));
      case internal::kChunkRecord:
        return DecodeChunk(batch);
      case internal::kFooterRecord:
        return CheckFooter();
    }
    return Fail(absl::InternalError("unreachable"));
  }

 private:
  static constexpr int kEnd = 0;

  std::string Where(std::uint64_t offset) const {
    return absl::StrCat(path_, ": ", compressed_ ? "decompressed byte " : "byte ", offset, ": ");
  }
  std::string AtEvent(std::uint64_t index) const {
    return absl::StrCat(path_, ": event ", index, ": ");
  }

  absl::Status Fail(absl::Status status) {
    status_ = std::move(status);
    return status_;
  }
  absl::Status Framing(std::uint64_t offset, const absl::Status& source_error) {
    return Fail(
        absl::Status(source_error.code(), absl::StrCat(Where(offset), source_error.message())));
  }

  // Reads one record into payload_; returns its type, or kEnd at a clean end
  // of the stream (between records).
  absl::StatusOr<int> ReadRecord() {
    record_offset_ = in_.offset();
    char type_byte;
    absl::StatusOr<std::size_t> n = in_.ReadUpTo(&type_byte, 1);
    if (!n.ok()) return Framing(in_.offset(), n.status());
    if (*n == 0) return kEnd;
    const int type = static_cast<unsigned char>(type_byte);
    if (type < internal::kHeaderRecord || type > internal::kFooterRecord) {
      return Fail(absl::DataLossError(absl::StrFormat(
          "%sunknown record type 0x%02x after event %d (expected 1 header, 2 chunk or 3 footer)",
          Where(record_offset_), type, totals_.event_count)));
    }
    const char* name = internal::RecordTypeName(type);
    std::uint64_t length = 0;
    for (int shift = 0;; shift += 7) {
      char byte;
      n = in_.ReadUpTo(&byte, 1);
      if (!n.ok()) return Framing(in_.offset(), n.status());
      if (*n == 0) return Truncated(name, "inside the record length");
      const auto b = static_cast<unsigned char>(byte);
      if (shift == 63 && b > 1) {
        return Fail(absl::DataLossError(absl::StrCat(
            Where(record_offset_), "malformed length of the ", name, " record (varint overflow)")));
      }
      length |= std::uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) break;
    }
    if (length > internal::kMaxRecordPayload) {
      return Fail(absl::DataLossError(
          absl::StrCat(Where(record_offset_), "the ", name, " record claims ", length,
                       " payload bytes (at most ", internal::kMaxRecordPayload, " expected)")));
    }
    // Grow the payload as it arrives, so a corrupt length cannot make us
    // allocate more than the file holds.
    payload_.clear();
    constexpr std::size_t kStep = 1 << 20;
    while (payload_.size() < length) {
      const std::size_t old = payload_.size();
      const std::size_t want = std::min<std::uint64_t>(kStep, length - old);
      payload_.resize(old + want);
      n = in_.ReadUpTo(payload_.data() + old, want);
      if (!n.ok()) return Framing(in_.offset(), n.status());
      if (*n < want) {
        return Truncated(name,
                         absl::StrCat("after ", old + *n, " of its ", length, " payload bytes"));
      }
    }
    unsigned char crc_bytes[4];
    n = in_.ReadUpTo(reinterpret_cast<char*>(crc_bytes), 4);
    if (!n.ok()) return Framing(in_.offset(), n.status());
    if (*n < 4) return Truncated(name, "inside its 4-byte checksum");
    const std::uint32_t stored = crc_bytes[0] | (crc_bytes[1] << 8) | (crc_bytes[2] << 16) |
                                 (std::uint32_t{crc_bytes[3]} << 24);
    const std::uint32_t computed = Crc32c(payload_.data(), payload_.size());
    if (stored != computed) {
      return Fail(absl::DataLossError(absl::StrFormat(
          "%s%s record checksum mismatch after event %d (expected 0x%08x, found 0x%08x)",
          Where(record_offset_), name, totals_.event_count, stored, computed)));
    }
    return type;
  }

  absl::Status Truncated(const char* name, const std::string& where) {
    return Fail(absl::DataLossError(absl::StrCat(Where(record_offset_), "truncated ", name,
                                                 " record after event ", totals_.event_count,
                                                 ": the file ends ", where)));
  }

  absl::Status DecodeChunk(std::vector<Event>* batch) {
    const std::uint64_t index = totals_.event_count;
    const std::uint64_t chunk_number = totals_.chunk_count;
    if (!chunk_.ParseFromString(payload_)) {
      return Fail(absl::DataLossError(absl::StrCat(Where(record_offset_), "event ", index,
                                                   ": chunk ", chunk_number,
                                                   " does not parse as a traces.EventChunk")));
    }
    if (chunk_.first_event() != index) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(AtEvent(index), "chunk ", chunk_number, " starts at event ",
                       chunk_.first_event(), " (expected ", index, ", where the previous ",
                       chunk_number == 0 ? "trace starts)" : "chunk ended)")));
    }
    const int rows = chunk_.kinds_size();
    if (rows == 0) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(AtEvent(index), "chunk ", chunk_number, " has no events")));
    }
    struct Column {
      const char* name;
      int size;
    };
    const Column columns[] = {
        {"ids", chunk_.ids_size()},
        {"new_ids", chunk_.new_ids_size()},
        {"sizes", chunk_.sizes_size()},
        {"alignments", chunk_.alignments_size()},
        {"flavours", chunk_.flavours_size()},
        {"threads", chunk_.threads_size()},
        {"time_deltas", chunk_.time_deltas_size()},
        {"sites", chunk_.sites_size()},
        {"pool_hints", chunk_.pool_hints_size()},
    };
    for (const Column& column : columns) {
      if (column.size != 0 && column.size != rows) {
        return Fail(absl::InvalidArgumentError(absl::StrCat(
            AtEvent(index), "chunk ", chunk_number, " has ", rows, " kinds but ", column.size, " ",
            column.name, " (expected ", rows, ", or 0 for all zeros)")));
      }
    }
    // One pass, row by row, so each event is written once while it is in
    // cache. An absent column reads its one zero with a stride of 0.
    batch->resize(rows);
    Event* events = batch->data();
    const ColumnReader<std::uint64_t> ids(chunk_.ids()), new_ids(chunk_.new_ids()),
        sizes(chunk_.sizes()), alignments(chunk_.alignments());
    const ColumnReader<std::uint32_t> flavours(chunk_.flavours()), threads(chunk_.threads()),
        sites(chunk_.sites()), pool_hints(chunk_.pool_hints());
    const ColumnReader<std::int64_t> time_deltas(chunk_.time_deltas());
    const std::uint32_t* kinds = chunk_.kinds().data();
    // Locals, not members, so stores through `e` cannot force reloads.
    std::uint64_t time_ns = last_time_ns_;
    internal::Totals totals;
    for (int i = 0; i < rows; ++i) {
      const std::uint32_t kind = kinds[i];
      const std::uint32_t flavour = flavours[i];
      if (kind >= kEventKindCount || flavour >= kFlavourCount) [[unlikely]] {
        batch->clear();
        return Fail(absl::InvalidArgumentError(absl::StrCat(
            AtEvent(index + i), kind >= kEventKindCount
                                    ? absl::StrCat("unknown event kind ", kind, " (expected 0..",
                                                   kEventKindCount - 1, ")")
                                    : absl::StrCat("unknown flavour ", flavour, " (expected 0..",
                                                   kFlavourCount - 1, ")"))));
      }
      Event& e = events[i];
      e.kind = static_cast<EventKind>(kind);
      e.flavour = static_cast<Flavour>(flavour);
      e.thread = threads[i];
      e.id = ids[i];
      e.new_id = new_ids[i];
      e.size = sizes[i];
      e.alignment = alignments[i];
      time_ns += static_cast<std::uint64_t>(time_deltas[i]);
      e.time_ns = time_ns;
      e.site = sites[i];
      e.pool_hint = pool_hints[i];
      const internal::EventDefect defect = internal::FindEventDefect(e);
      if (defect != internal::EventDefect::kNone) [[unlikely]] {
        const std::string problem = internal::DescribeEventDefect(defect, e);
        batch->clear();
        return Fail(absl::InvalidArgumentError(absl::StrCat(AtEvent(index + i), problem)));
      }
      totals.Add(e);
    }
    last_time_ns_ = time_ns;
    totals_.Merge(totals);
    ++totals_.chunk_count;
    return absl::OkStatus();
  }

  absl::Status CheckFooter() {
    traces::TraceFooter footer;
    const std::uint64_t index = totals_.event_count;
    if (!footer.ParseFromString(payload_)) {
      return Fail(absl::DataLossError(absl::StrCat(Where(record_offset_), "event ", index,
                                                   ": the footer record does not parse as a "
                                                   "traces.TraceFooter")));
    }
    auto mismatch = [&](const std::string& what, std::uint64_t says, std::uint64_t found) {
      return Fail(absl::DataLossError(absl::StrCat(AtEvent(index), "footer says ", says, " ", what,
                                                   " but the trace holds ", found)));
    };
    if (footer.event_count() != totals_.event_count) {
      return mismatch("events", footer.event_count(), totals_.event_count);
    }
    if (footer.chunk_count() != totals_.chunk_count) {
      return mismatch("chunks", footer.chunk_count(), totals_.chunk_count);
    }
    if (footer.events_per_kind_size() > kEventKindCount) {
      return Fail(absl::DataLossError(
          absl::StrCat(AtEvent(index), "footer has ", footer.events_per_kind_size(),
                       " events_per_kind entries (expected at most ", kEventKindCount, ")")));
    }
    for (int k = 0; k < kEventKindCount; ++k) {
      const std::uint64_t says = k < footer.events_per_kind_size() ? footer.events_per_kind(k) : 0;
      if (says != totals_.per_kind[k]) {
        return mismatch(absl::StrCat(EventKindName(static_cast<EventKind>(k)), " events"), says,
                        totals_.per_kind[k]);
      }
    }
    if (footer.bytes_allocated() != totals_.bytes_allocated) {
      return mismatch("bytes allocated", footer.bytes_allocated(), totals_.bytes_allocated);
    }
    const std::uint64_t end = in_.offset();
    char extra;
    absl::StatusOr<std::size_t> n = in_.ReadUpTo(&extra, 1);
    if (!n.ok()) return Framing(end, n.status());
    if (*n != 0) {
      return Fail(absl::DataLossError(absl::StrCat(
          Where(end), "unexpected data after the footer record (the trace should end here)")));
    }
    done_ = true;
    return absl::OkStatus();
  }

  std::string path_;
  InputStream in_;
  bool compressed_;
  traces::TraceHeader header_;
  traces::EventChunk chunk_;
  std::string payload_;
  std::uint64_t record_offset_ = 0;
  std::uint64_t last_time_ns_ = 0;
  internal::Totals totals_;
  absl::Status status_;
  bool done_ = false;
};

absl::StatusOr<std::unique_ptr<TraceReader>> OpenFromSource(const std::string& path,
                                                            std::unique_ptr<ByteSource> source) {
  bool compressed = false;
  absl::StatusOr<std::unique_ptr<ByteSource>> whole =
      internal::MaybeDecompress(std::move(source), &compressed);
  if (!whole.ok()) {
    return absl::Status(whole.status().code(),
                        absl::StrCat(path, ": byte 0: ", whole.status().message()));
  }
  auto reader = std::make_unique<TraceReaderImpl>(path, *std::move(whole), compressed);
  if (absl::Status s = reader->ReadStart(); !s.ok()) return s;
  return reader;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TraceReader>> TraceReader::Open(const std::string& path) {
  absl::StatusOr<std::unique_ptr<ByteSource>> source = internal::OpenFileSource(path);
  if (!source.ok()) return source.status();
  return OpenFromSource(path, *std::move(source));
}

namespace internal {

absl::StatusOr<std::unique_ptr<TraceReader>> OpenTraceReaderFromMemory(const std::string& name,
                                                                       std::string bytes) {
  return OpenFromSource(name, MemorySource(std::move(bytes)));
}

}  // namespace internal
}  // namespace replay
