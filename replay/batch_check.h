// The reader's pass over each decoded batch (internal to //replay:trace_io):
// whether any event may break a rule of traces/FORMAT.md, and the batch's
// share of the footer's totals, in one pass over the columns every manual
// trace has (kinds, ids, new ids, sizes). The columns most traces leave out
// (alignments, flavours, slots) get a pass each when present. With AVX2,
// eight events a step.
#ifndef REPLAY_BATCH_CHECK_H_
#define REPLAY_BATCH_CHECK_H_

#include "replay/event_batch.h"
#include "replay/trace_format.h"

namespace replay::internal {

// Most events in a batch: the kind counts are kept in 16-bit lanes.
inline constexpr std::size_t kMaxScanEvents = 0xFFFF;

// Sets *totals to the batch's events, their counts per kind and the bytes
// they allocate (chunk_count 0), and returns whether some event may break a
// rule. It may say yes for a valid batch (an alignment of exactly 2^48); a
// caller looks for the event with FindEventDefect then. Needs
// batch.size() <= kMaxScanEvents.
bool ScanBatch(const EventBatch& batch, Totals* totals);

// Whether ScanBatch takes eight events a step with AVX2 when a batch has
// ids, new ids and sizes (the default where the CPU has AVX2), and whether
// it can: tests run both ways.
bool& UseAvx2Scan();
bool Avx2Available();

}  // namespace replay::internal

#endif  // REPLAY_BATCH_CHECK_H_
