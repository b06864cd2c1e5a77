// TraceReader: reads framed records one at a time (bounded memory) and
// checks everything traces/FORMAT.md promises, naming the file, the byte
// offset (framing) or event index (contents) and what was expected.
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <bit>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "replay/batch_check.h"
#include "replay/byte_io.h"
#include "replay/crc32c.h"
#include "replay/event_batch.h"
#include "replay/trace_format.h"
#include "replay/trace_io.h"
#include "replay/varint_decoder.h"

namespace replay {
namespace {

// Payloads are followed by this many zero bytes, so that the varint
// decoder's loads past a column's end stay inside the buffer.
constexpr std::size_t kPadding = internal::kVarintPadding;

// Intel since Haswell and AMD since Zen 3 run pext in a cycle or three;
// earlier AMD cores run it in microcode, far slower than the shifts.
bool PextIsFast() {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("bmi2")) return false;
  if (__builtin_cpu_is("intel")) return true;
  unsigned eax, ebx, ecx, edx;
  if (!__builtin_cpu_is("amd") || __get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return ((eax >> 8) & 0xF) + ((eax >> 20) & 0xFF) >= 0x19;
#else
  return false;
#endif
}

// The fields of one EventChunk record located without parsing it, when it
// has the shape every writer produces: first_event as a varint, each column
// packed, at most once, and no other fields. Anything else (valid or not)
// goes to the general path, which parses with protobuf and reports errors.
struct FastChunk {
  std::uint64_t first_event = 0;
  struct Span {
    const char* data = nullptr;
    std::size_t size = 0;
    std::size_t count = 0;  // Varints in it.
  };
  Span columns[13];  // By field number; 2..12 are the columns.

  // Reads the record's layout; false if it needs the general path.
  bool Locate(absl::string_view payload) {
    *this = FastChunk{};
    const char* p = payload.data();
    const char* const end = p + payload.size();
    bool seen[13] = {};
    while (p < end) {
      std::uint64_t tag, value;
      if (!ReadVarint(&p, end, &tag)) return false;
      const std::uint64_t field = tag >> 3, wire = tag & 7;
      if (field < 1 || field > 12 || seen[field]) return false;
      seen[field] = true;
      if (!ReadVarint(&p, end, &value)) return false;
      if (field == 1) {
        if (wire != 0) return false;
        first_event = value;
        continue;
      }
      if (wire != 2 || value > static_cast<std::uint64_t>(end - p)) return false;
      Span& span = columns[field];
      span.data = p;
      span.size = value;
      // Every varint ends in a byte below 0x80; the last byte must be one.
      if (value > 0 && static_cast<std::uint8_t>(p[value - 1]) >= 0x80) return false;
      span.count = internal::CountVarintEnds(reinterpret_cast<const std::uint8_t*>(p), value);
      p += value;
      if (span.count == 0) span.data = nullptr;  // Present but empty reads as absent.
    }
    return true;
  }

  static bool ReadVarint(const char** p, const char* end, std::uint64_t* value) {
    *value = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
      const std::uint8_t byte = static_cast<std::uint8_t>(*(*p)++);
      *value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) return true;
    }
    return false;
  }
};

using internal::ByteSource;
using internal::DecodeVarints;
using internal::ShiftGroups;
#if defined(__x86_64__)
using internal::PextGroups;
#endif
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
    if (!header_.ParseFromArray(payload_.data(), static_cast<int>(payload_size_))) {
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
  void SkipTimes() override { skip_times_ = true; }
  std::uint64_t events_read() const override { return totals_.event_count; }
  const std::string& path() const override { return path_; }
  double fraction_read() const override { return in_.fraction_read(); }

  absl::Status Next(std::vector<Event>* batch) override {
    batch->clear();
    absl::Status status = NextBatch(&rows_);
    if (status.ok()) rows_.AppendRows(batch);
    return status;
  }

  absl::Status NextBatch(EventBatch* batch) override {
    batch->Reset(totals_.event_count, 0);
    if (!status_.ok() || done_) return status_;
    if (rows_left_ > 0) return NextRows(batch);
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
        if (absl::Status status = StartChunk(); !status.ok()) return status;
        return NextRows(batch);
      case internal::kFooterRecord:
        return CheckFooter();
    }
    return Fail(absl::InternalError("unreachable"));
  }

 private:
  static constexpr int kEnd = 0;
  // Columns besides kinds: fields 3..12 of EventChunk.
  static constexpr int kOptionalColumns = 10;

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
    // allocate more than the file holds. The buffer only grows: bytes left
    // from earlier records are overwritten, not zeroed first.
    payload_size_ = 0;
    constexpr std::size_t kStep = 1 << 20;
    std::size_t have = 0;
    while (have < length) {
      const std::size_t want = std::min<std::uint64_t>(kStep, length - have);
      if (payload_.size() < have + want + kPadding) payload_.resize(have + want + kPadding);
      n = in_.ReadUpTo(payload_.data() + have, want);
      if (!n.ok()) return Framing(in_.offset(), n.status());
      if (*n < want) {
        return Truncated(name,
                         absl::StrCat("after ", have + *n, " of its ", length, " payload bytes"));
      }
      have += want;
    }
    unsigned char crc_bytes[4];
    n = in_.ReadUpTo(reinterpret_cast<char*>(crc_bytes), 4);
    if (!n.ok()) return Framing(in_.offset(), n.status());
    if (*n < 4) return Truncated(name, "inside its 4-byte checksum");
    const std::uint32_t stored = crc_bytes[0] | (crc_bytes[1] << 8) | (crc_bytes[2] << 16) |
                                 (std::uint32_t{crc_bytes[3]} << 24);
    const std::uint32_t computed = Crc32c(payload_.data(), length);
    payload_size_ = length;
    if (payload_.size() < length + kPadding) payload_.resize(length + kPadding);
    std::memset(payload_.data() + length, 0, kPadding);
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

  // Starts delivering a chunk record's events: locates its columns without
  // parsing when it has the usual shape (the fast path), else parses it with
  // protobuf, then checks its shape.
  absl::Status StartChunk() {
    const absl::string_view payload(payload_.data(), payload_size_);
    fast_ = fast_chunk_.Locate(payload);
    std::uint64_t first_event, rows;
    std::uint64_t counts[kOptionalColumns];
    if (fast_) {
      first_event = fast_chunk_.first_event;
      rows = fast_chunk_.columns[2].count;
      for (int field = 2; field <= 12; ++field) {
        cursors_[field] = reinterpret_cast<const std::uint8_t*>(fast_chunk_.columns[field].data);
        if (field > 2) counts[field - 3] = fast_chunk_.columns[field].count;
      }
    } else {
      if (!chunk_.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        return Unparsable();
      }
      first_event = chunk_.first_event();
      rows = static_cast<std::uint64_t>(chunk_.kinds_size());
      const int sizes[kOptionalColumns] = {chunk_.ids_size(),         chunk_.new_ids_size(),
                                           chunk_.sizes_size(),       chunk_.alignments_size(),
                                           chunk_.flavours_size(),    chunk_.threads_size(),
                                           chunk_.time_deltas_size(), chunk_.sites_size(),
                                           chunk_.pool_hints_size(),  chunk_.slots_size()};
      for (int k = 0; k < kOptionalColumns; ++k) counts[k] = static_cast<std::uint64_t>(sizes[k]);
    }
    if (absl::Status s = CheckShape(first_event, rows, counts); !s.ok()) return s;
    rows_left_ = rows;
    rows_done_ = 0;
    return absl::OkStatus();
  }

  // The next few thousand events of the current chunk, column by column: a
  // batch small enough to stay in cache while the engine dispatches it.
  absl::Status NextRows(EventBatch* batch) {
    const std::size_t n = static_cast<std::size_t>(std::min(rows_left_, kRowsPerBatch));
    batch->Reset(totals_.event_count, n);
    if (fast_) {
      // Locate checked all but a varint of over 10 bytes, which protobuf
      // rejects too.
      if (!DecodeColumns(n, batch)) return Unparsable();
    } else {
      CopyColumns(n, batch);
    }
    if (!skip_times_) AccumulateTimes(batch);
    internal::Totals totals;
    if (internal::ScanBatch(*batch, &totals)) [[unlikely]] {
      if (absl::Status s = NameDefect(batch); !s.ok()) return s;
    }
    totals_.Merge(totals);
    rows_left_ -= n;
    rows_done_ += n;
    if (rows_left_ == 0) ++totals_.chunk_count;
    return absl::OkStatus();
  }

  // The fast path: each present column's next n varints, a column at a time.
  bool DecodeColumns(std::size_t n, EventBatch* batch) {
#if defined(__x86_64__)
    if (internal::UsePext()) return DecodeColumns<PextGroups>(n, batch);
#endif
    return DecodeColumns<ShiftGroups>(n, batch);
  }
  template <typename Groups>
  bool DecodeColumns(std::size_t n, EventBatch* batch) {
    if (!DecodeVarints<Groups>(&cursors_[2], n, batch->MutableKinds())) return false;
    for (int field = 3; field <= 12; ++field) {
      if (cursors_[field] == nullptr || (field == kTimeDeltasField && skip_times_)) continue;
      const Target t = kTargets[field];
      const bool ok =
          t.wide ? DecodeVarints<Groups>(&cursors_[field], n, batch->Mutable(t.wide_column))
                 : DecodeVarints<Groups>(&cursors_[field], n, batch->Mutable(t.narrow_column));
      if (!ok) return false;
    }
    return true;
  }

  // The general path: the same rows of the parsed chunk's fields.
  void CopyColumns(std::size_t n, EventBatch* batch) {
    auto copy = [&](const auto& field, auto* out) {
      std::copy_n(field.data() + rows_done_, n, out);
    };
    copy(chunk_.kinds(), batch->MutableKinds());
    const google::protobuf::RepeatedField<std::uint64_t>* wide[] = {
        &chunk_.ids(), &chunk_.new_ids(), &chunk_.sizes(), &chunk_.alignments()};
    for (int c = 0; c < 4; ++c) {
      if (!wide[c]->empty()) copy(*wide[c], batch->Mutable(static_cast<EventBatch::Wide>(c)));
    }
    // The raw zigzag deltas, as the fast path leaves them.
    if (!chunk_.time_deltas().empty() && !skip_times_) {
      std::uint64_t* out = batch->Mutable(EventBatch::kTimes);
      for (std::size_t i = 0; i < n; ++i) {
        const auto delta = static_cast<std::uint64_t>(chunk_.time_deltas(rows_done_ + i));
        out[i] = delta << 1 ^ (std::uint64_t{0} - (delta >> 63));
      }
    }
    const google::protobuf::RepeatedField<std::uint32_t>* narrow[] = {
        &chunk_.flavours(), &chunk_.threads(), &chunk_.sites(), &chunk_.pool_hints(),
        &chunk_.slots()};
    for (int c = 0; c < EventBatch::kNarrowCount; ++c) {
      if (!narrow[c]->empty()) copy(*narrow[c], batch->Mutable(static_cast<EventBatch::Narrow>(c)));
    }
  }

  // Turns the zigzag time deltas into absolute times (a time column is
  // needed, constant, when a chunk has no deltas after earlier time went by).
  void AccumulateTimes(EventBatch* batch) {
    const std::size_t n = batch->size();
    if (batch->column(EventBatch::kTimes) == nullptr) {
      if (last_time_ns_ != 0) std::fill_n(batch->Mutable(EventBatch::kTimes), n, last_time_ns_);
      return;
    }
    std::uint64_t* times = batch->Mutable(EventBatch::kTimes);
    std::uint64_t t = last_time_ns_;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t zigzag = times[i];
      t += (zigzag >> 1) ^ (~(zigzag & 1) + 1);
      times[i] = t;
    }
    last_time_ns_ = t;
  }

  // The first event that breaks a rule, if any, is the error; its batch is
  // not delivered. Only for a batch that ScanBatch found may have one.
  [[gnu::cold, gnu::noinline]] absl::Status NameDefect(EventBatch* batch) {
    const std::uint32_t* kinds = batch->kinds();
    const std::uint32_t* flavours = batch->column(EventBatch::kFlavours);
    for (std::size_t i = 0; i < batch->size(); ++i) {
      // Kinds and flavours as stored: an enum would truncate them.
      const std::uint32_t kind = kinds[i], flavour = flavours != nullptr ? flavours[i] : 0;
      std::string problem;
      if (kind >= kEventKindCount) {
        problem =
            absl::StrCat("unknown event kind ", kind, " (expected 0..", kEventKindCount - 1, ")");
      } else if (flavour >= kFlavourCount) {
        problem =
            absl::StrCat("unknown flavour ", flavour, " (expected 0..", kFlavourCount - 1, ")");
      } else {
        problem = internal::EventProblem(batch->Row(i));
      }
      if (!problem.empty()) {
        const std::uint64_t index = batch->first() + i;
        batch->Reset(index, 0);
        return Fail(absl::InvalidArgumentError(absl::StrCat(AtEvent(index), problem)));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Unparsable() {
    return Fail(absl::DataLossError(
        absl::StrCat(Where(record_offset_), "event ", totals_.event_count, ": chunk ",
                     totals_.chunk_count, " does not parse as a traces.EventChunk")));
  }

  // The chunk starts where the previous one ended, has events, and every
  // column (counts: ids, new_ids, sizes, alignments, flavours, threads,
  // time_deltas, sites, pool_hints, slots) has one entry per event or none.
  absl::Status CheckShape(std::uint64_t first_event, std::uint64_t rows,
                          const std::uint64_t (&counts)[kOptionalColumns]) {
    static constexpr const char* kNames[kOptionalColumns] = {
        "ids",     "new_ids",     "sizes", "alignments", "flavours",
        "threads", "time_deltas", "sites", "pool_hints", "slots"};
    const std::uint64_t index = totals_.event_count;
    const std::uint64_t chunk_number = totals_.chunk_count;
    if (first_event != index) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          AtEvent(index), "chunk ", chunk_number, " starts at event ", first_event, " (expected ",
          index, ", where the previous ", chunk_number == 0 ? "trace starts)" : "chunk ended)")));
    }
    if (rows == 0) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(AtEvent(index), "chunk ", chunk_number, " has no events")));
    }
    if (rows > internal::kMaxEventsPerChunk) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(AtEvent(index), "chunk ", chunk_number,
                                                          " has ", rows, " events (the limit is ",
                                                          internal::kMaxEventsPerChunk, ")")));
    }
    for (int k = 0; k < kOptionalColumns; ++k) {
      if (counts[k] != 0 && counts[k] != rows) {
        return Fail(absl::InvalidArgumentError(
            absl::StrCat(AtEvent(index), "chunk ", chunk_number, " has ", rows, " kinds but ",
                         counts[k], " ", kNames[k], " (expected ", rows, ", or 0 for all zeros)")));
      }
    }
    return absl::OkStatus();
  }

  absl::Status CheckFooter() {
    traces::TraceFooter footer;
    const std::uint64_t index = totals_.event_count;
    if (!footer.ParseFromArray(payload_.data(), static_cast<int>(payload_size_))) {
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
  // The chunk being delivered, a batch at a time.
  static constexpr std::uint64_t kRowsPerBatch = 4096;
  static_assert(kRowsPerBatch <= internal::kMaxScanEvents);
  // Where fields 3..12 of EventChunk go in a batch.
  struct Target {
    bool wide;
    EventBatch::Wide wide_column;
    EventBatch::Narrow narrow_column;
  };
  static constexpr Target kTargets[13] = {
      {},
      {},
      {},
      {true, EventBatch::kIds, {}},
      {true, EventBatch::kNewIds, {}},
      {true, EventBatch::kSizes, {}},
      {true, EventBatch::kAlignments, {}},
      {false, {}, EventBatch::kFlavours},
      {false, {}, EventBatch::kThreads},
      {true, EventBatch::kTimes, {}},  // Zigzag deltas, made absolute after.
      {false, {}, EventBatch::kSites},
      {false, {}, EventBatch::kPoolHints},
      {false, {}, EventBatch::kSlots},
  };
  traces::EventChunk chunk_;  // The general path's parse.
  FastChunk fast_chunk_;      // The fast path's layout.
  bool fast_ = false;
  // The fast path's place in each packed column, by field number (null:
  // absent).
  const std::uint8_t* cursors_[13] = {};
  std::uint64_t rows_done_ = 0;  // The general path's place.
  static constexpr int kTimeDeltasField = 9;
  bool skip_times_ = false;
  EventBatch rows_;  // What Next(std::vector<Event>*) converts.
  std::uint64_t rows_left_ = 0;
  std::string payload_;  // payload_size_ bytes, then kPadding zero bytes (or more).
  std::size_t payload_size_ = 0;
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

bool& UsePext() {
  static bool use = PextIsFast();
  return use;
}

bool PextAvailable() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("bmi2");
#else
  return false;
#endif
}

absl::StatusOr<std::unique_ptr<TraceReader>> OpenTraceReaderFromMemory(const std::string& name,
                                                                       std::string bytes) {
  return OpenFromSource(name, MemorySource(std::move(bytes)));
}

}  // namespace internal
}  // namespace replay
