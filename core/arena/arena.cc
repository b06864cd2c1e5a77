#include "core/arena/arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace core {

struct Arena::Chunk {
  Range range;        // The whole chunk, header included.
  Range usable;       // What pools can have: the chunk less its header.
  GrainInfo* grains;  // One per grain of `range`, at the chunk's base.
  bool owned;         // Reserved by us (munmap on destruction).

  std::size_t Index(Addr addr, std::size_t grain) const { return (addr - range.base) / grain; }
};

namespace {

std::size_t PageSize() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

// Reserves `size` bytes of address space aligned to `align` (0: page).
Addr ReserveAddressSpace(std::size_t size, std::size_t align) {
  const std::size_t padded = align > PageSize() ? size + align : size;
  void* p = mmap(nullptr, padded, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return 0;
  Addr base = ToAddr(p);
  if (padded != size) {
    const Addr aligned = AlignUp(base, align);
    if (aligned > base) munmap(p, aligned - base);
    const Addr end = base + padded;
    if (end > aligned + size) munmap(ToPointer(aligned + size), end - (aligned + size));
    base = aligned;
  }
  return base;
}

// Bytes of header a chunk of `grains` grains needs: its grain table, then
// room for grains + 2 tree nodes (enough for both lands; see DESIGN.md).
std::size_t HeaderBytes(std::size_t grains) {
  const std::size_t table = AlignUp(grains * sizeof(GrainInfo), alignof(Cbs::Node));
  return table + (grains + 2) * sizeof(Cbs::Node);
}

}  // namespace

ArenaOptions ArenaOptions::MlWorks() {
  ArenaOptions options;
  options.grain_size = std::size_t{64} << 10;
  options.chunk_size = std::size_t{16} << 20;
  options.align_chunks = true;
  return options;
}

Arena::Arena(const ArenaOptions& options, bool client)
    : grain_size_(options.grain_size == 0 ? PageSize() : options.grain_size),
      chunk_size_(options.chunk_size),
      align_chunks_(options.align_chunks),
      client_(client),
      reserve_limit_(options.reserve_limit),
      commit_limit_(options.commit_limit),
      spare_fraction_(options.spare),
      node_store_(sizeof(Cbs::Node)),
      free_land_(&node_store_),
      spare_land_(&node_store_),
      pools_(1, nullptr),
      pool_bytes_(1, 0) {}

Res Arena::CreateVirtual(const ArenaOptions& options, std::unique_ptr<Arena>* arena) {
  const std::size_t grain = options.grain_size == 0 ? PageSize() : options.grain_size;
  if (!IsPowerOfTwo(grain) || grain % PageSize() != 0 || options.chunk_size < 4 * grain ||
      options.spare < 0 || options.spare > 1 ||
      (options.align_chunks && !IsPowerOfTwo(options.chunk_size))) {
    return Res::kParam;
  }
  std::unique_ptr<Arena> made(new Arena(options, /*client=*/false));
  Res res = made->Extend(0);
  if (res != Res::kOk) return res;
  if (options.precommit > 0) res = made->Precommit(options.precommit);
  if (res != Res::kOk) return res;
  *arena = std::move(made);
  return Res::kOk;
}

Res Arena::CreateClient(void* base, std::size_t size, const ArenaOptions& options,
                        std::unique_ptr<Arena>* arena) {
  const std::size_t grain = options.grain_size == 0 ? PageSize() : options.grain_size;
  if (base == nullptr || !IsPowerOfTwo(grain) || grain < 4 * kWordSize || options.spare < 0 ||
      options.spare > 1) {
    return Res::kParam;
  }
  const Addr aligned_base = AlignUp(ToAddr(base), grain);
  const Addr limit = AlignDown(ToAddr(base) + size, grain);
  if (limit <= aligned_base) return Res::kParam;
  std::unique_ptr<Arena> made(new Arena(options, /*client=*/true));
  std::lock_guard<std::mutex> lock(made->mutex_);
  Res res = made->AddChunk(aligned_base, limit - aligned_base, /*owned=*/false);
  if (res != Res::kOk) return res;
  *arena = std::move(made);
  return Res::kOk;
}

Arena::~Arena() {
  // The lands' nodes live in the chunk headers: empty them while mapped.
  free_land_.Clear();
  spare_land_.Clear();
  for (Chunk* chunk : chunks_) {
    if (chunk->owned) munmap(ToPointer(chunk->range.base), chunk->range.size());
    delete chunk;
  }
}

Res Arena::Extend(std::size_t size) {
  if (client_) return Res::kResource;
  // No chunk can hold more than half the address space (this also keeps
  // the sizing arithmetic below from overflowing).
  if (size > std::numeric_limits<std::size_t>::max() / 4) return Res::kResource;
  // The chunk must hold `size` usable bytes after its header.
  std::size_t chunk = std::max(chunk_size_, AlignUp(size, grain_size_) + grain_size_);
  for (;;) {
    const std::size_t header = AlignUp(HeaderBytes(chunk / grain_size_), grain_size_);
    if (chunk >= header + AlignUp(size, grain_size_) + grain_size_) break;
    chunk += header;
  }
  chunk = AlignUp(chunk, align_chunks_ ? chunk_size_ : grain_size_);
  if (chunk > reserve_limit_ - stats_.reserved) return Res::kResource;
  const Addr base = ReserveAddressSpace(chunk, align_chunks_ ? chunk_size_ : grain_size_);
  if (base == 0) return Res::kResource;
  Res res = AddChunk(base, chunk, /*owned=*/true);
  if (res != Res::kOk) munmap(ToPointer(base), chunk);
  return res;
}

Res Arena::AddChunk(Addr base, std::size_t size, bool owned) {
  const std::size_t grains = size / grain_size_;
  const std::size_t header = AlignUp(HeaderBytes(grains), grain_size_);
  if (header + grain_size_ > size) return Res::kParam;  // No room for pools.
  // Only the grain table is committed now; the node region follows as the
  // lands need nodes (EnsureNodeReserve).
  const std::size_t table = AlignUp(grains * sizeof(GrainInfo), grain_size_);
  if (table > commit_limit_ - std::min(commit_limit_, stats_.committed)) {
    return Res::kCommitLimit;
  }
  if (owned && mprotect(ToPointer(base), table, PROT_READ | PROT_WRITE) != 0) {
    return Res::kResource;
  }
  auto* chunk = new Chunk{
      {base, base + size}, {base + header, base + size}, reinterpret_cast<GrainInfo*>(base), owned};
  const std::size_t header_grains = header / grain_size_;
  const std::size_t table_grains = table / grain_size_;
  for (std::size_t i = 0; i < grains; ++i) {
    GrainInfo& g = chunk->grains[i];
    if (i >= header_grains) {
      g = GrainInfo{0, SegmentType::kFree, 0, 0};
    } else {
      g = GrainInfo{0, SegmentType::kArenaControl, kGrainAllocated, 0};
      if (i < table_grains) g.flags |= kGrainCommitted;
    }
  }
  chunk->grains[0].flags |= kGrainHead;
  const Addr nodes = base + AlignUp(grains * sizeof(GrainInfo), alignof(Cbs::Node));
  node_store_.AddRegion({nodes, base + HeaderBytes(grains)}, base + table);
  chunks_.insert(std::upper_bound(
                     chunks_.begin(), chunks_.end(), chunk,
                     [](const Chunk* a, const Chunk* b) { return a->range.base < b->range.base; }),
                 chunk);
  ++stats_.reserve_calls;
  stats_.reserved += size;
  stats_.committed += table;
  stats_.control += table;
  ++stats_.commit_calls;
  if (auto* o = observer_.get()) [[unlikely]] {
    o->OnReserve(chunk->range, true);
    o->OnCommit({base, base + table}, true);
    o->OnSegmentAcquired({base, base + header}, nullptr, SegmentType::kArenaControl);
  }
  Res res = EnsureNodeReserve(kNodeReserve);
  if (res == Res::kOk) res = free_land_.Insert(chunk->usable, nullptr);
  return res;
}

Res Arena::EnsureNodeReserve(std::size_t units) {
  while (node_store_.available() < units) {
    Range range;
    if (!node_store_.NextUncommitted(grain_size_, &range)) return Res::kMemory;
    if (stats_.committed + range.size() > commit_limit_) {
      DecommitSpare(stats_.committed + range.size() - commit_limit_);
      if (stats_.committed + range.size() > commit_limit_) return Res::kCommitLimit;
    }
    Res res = CommitRange(range);
    if (res != Res::kOk) return res;
    stats_.control += range.size();
    node_store_.MarkCommitted(range);
  }
  return Res::kOk;
}

Arena::Chunk* Arena::ChunkOf(Addr addr) const {
  auto it = std::upper_bound(chunks_.begin(), chunks_.end(), addr,
                             [](Addr a, const Chunk* c) { return a < c->range.base; });
  if (it == chunks_.begin()) return nullptr;
  Chunk* chunk = *(it - 1);
  return chunk->range.Contains(addr) ? chunk : nullptr;
}

GrainInfo& Arena::Grain(Chunk* chunk, Addr addr) const {
  return chunk->grains[chunk->Index(addr, grain_size_)];
}

Res Arena::CommitRange(Range range) {
  if (!client_ && mprotect(ToPointer(range.base), range.size(), PROT_READ | PROT_WRITE) != 0) {
    return Res::kResource;
  }
  Chunk* chunk = ChunkOf(range.base);
  for (Addr a = range.base; a < range.limit; a += grain_size_) {
    Grain(chunk, a).flags |= kGrainCommitted;
  }
  stats_.committed += range.size();
  ++stats_.commit_calls;
  if (auto* o = observer_.get()) [[unlikely]]
    o->OnCommit(range, true);
  return Res::kOk;
}

void Arena::DecommitRange(Range range) {
  if (!client_) {
    // Mapping fresh PROT_NONE pages over the range gives the memory back.
    mmap(ToPointer(range.base), range.size(), PROT_NONE,
         MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  }
  Chunk* chunk = ChunkOf(range.base);
  for (Addr a = range.base; a < range.limit; a += grain_size_) {
    Grain(chunk, a).flags &= static_cast<std::uint8_t>(~kGrainCommitted);
  }
  stats_.committed -= range.size();
  ++stats_.decommit_calls;
  if (auto* o = observer_.get()) [[unlikely]]
    o->OnCommit(range, false);
}

std::size_t Arena::SpareAllowance() const {
  return std::max(static_cast<std::size_t>(spare_fraction_ * static_cast<double>(stats_.committed)),
                  spare_floor_);
}

void Arena::TrimSpare(bool all) {
  if (all) {
    DecommitSpare(stats_.spare);
    return;
  }
  if (stats_.spare <= spare_floor_ || spare_fraction_ >= 1) return;
  // Decommitting d bytes lowers spare and committed alike, so to reach
  // spare <= f * committed we need d >= (spare - f * committed) / (1 - f);
  // to reach the floor, d = spare - floor. Either will do.
  const double excess =
      static_cast<double>(stats_.spare) - spare_fraction_ * static_cast<double>(stats_.committed);
  if (excess <= 0) return;
  const auto to_fraction = static_cast<std::size_t>(std::ceil(excess / (1 - spare_fraction_)));
  DecommitSpare(std::min(to_fraction, stats_.spare - spare_floor_));
}

Res Arena::Precommit(std::size_t bytes) {
  Range range;
  if (Res res = Alloc(bytes, 0, SegmentType::kStatic, /*high=*/false, &range); res != Res::kOk) {
    return res;
  }
  // Touch every page now, so that later first writes do not fault.
  std::memset(ToPointer(range.base), 0, range.size());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    spare_floor_ = range.size();
  }
  return Free(range);
}

void Arena::DecommitSpare(std::size_t bytes) {
  std::size_t target = std::min(AlignUp(bytes, grain_size_), stats_.spare);
  // Decommit from the highest addresses, keeping the low, busy end warm.
  while (target > 0) {
    Range block;
    if (!spare_land_.FindLast(grain_size_, FindDelete::kNone, &block, nullptr)) break;
    const Range part{block.limit - std::min(block.size(), target), block.limit};
    Res res = spare_land_.Delete(part, nullptr);  // At the block's end: no node needed.
    (void)res;
    stats_.spare -= part.size();
    DecommitRange(part);
    target -= part.size();
  }
}

Res Arena::Alloc(std::size_t size, std::uint32_t pool_id, SegmentType type, bool high,
                 Range* segment) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t rounded;
  if (size == 0 || !SizeAlignUp(size, grain_size_, &rounded)) return Res::kParam;
  if (pool_id >= pools_.size() || (pool_id != 0 && pools_[pool_id] == nullptr) ||
      type == SegmentType::kFree || type == SegmentType::kArenaControl) {
    return Res::kParam;
  }
  // Enough nodes for this allocation and for frees after it, before any
  // change, so a failure here leaves the arena as it was.
  if (Res res = EnsureNodeReserve(2 * kNodeReserve); res != Res::kOk) return res;
  const FindDelete mode = high ? FindDelete::kHigh : FindDelete::kLow;
  Range range;
  // Reuse spare (free, committed) memory first: it needs no commit, and
  // leaving it idle while committing fresh grains would let the footprint
  // ratchet up to the spare bound. The spare land is a subset of the free
  // land, so the range is then taken out of the free land too.
  Range spare;
  bool found = high ? spare_land_.FindLast(rounded, FindDelete::kNone, &spare, nullptr)
                    : spare_land_.FindFirst(rounded, FindDelete::kNone, &spare, nullptr);
  if (found) {
    range = FindDeletePart(spare, rounded, mode);
    found = free_land_.Delete(range, nullptr) == Res::kOk;  // Nodes: the reserve.
  }
  if (!found) {
    found = high ? free_land_.FindLast(rounded, mode, &range, nullptr)
                 : free_land_.FindFirst(rounded, mode, &range, nullptr);
  }
  if (!found) {
    Res res = Extend(rounded);
    if (res != Res::kOk) return res;
    found = high ? free_land_.FindLast(rounded, mode, &range, nullptr)
                 : free_land_.FindFirst(rounded, mode, &range, nullptr);
    if (!found) return Res::kResource;
  }
  Chunk* chunk = ChunkOf(range.base);

  // How much of the range needs committing, and can the limit take it once
  // spare memory outside the range is decommitted?
  std::size_t uncommitted = 0;
  for (Addr a = range.base; a < range.limit; a += grain_size_) {
    if ((Grain(chunk, a).flags & kGrainCommitted) == 0) uncommitted += grain_size_;
  }
  const std::size_t spare_outside = stats_.spare - (range.size() - uncommitted);
  if (stats_.committed + uncommitted > commit_limit_ &&
      stats_.committed + uncommitted - commit_limit_ > spare_outside) {
    Res res = free_land_.Insert(range, nullptr);
    (void)res;  // It was there a moment ago.
    return Res::kCommitLimit;
  }

  // Commit the uncommitted runs; undo them all if the OS refuses one.
  for (Addr a = range.base; a < range.limit;) {
    const bool committed = (Grain(chunk, a).flags & kGrainCommitted) != 0;
    Addr b = a;
    while (b < range.limit && ((Grain(chunk, b).flags & kGrainCommitted) != 0) == committed) {
      b += grain_size_;
    }
    if (committed) {
      Res res = spare_land_.Delete({a, b}, nullptr);  // Nodes never run out here.
      (void)res;
      stats_.spare -= b - a;
    } else if (CommitRange({a, b}) != Res::kOk) {
      // Return the committed prefix to the spare land and the range to the
      // free land: the arena is as it was, bar some warm pages.
      for (Addr c = range.base; c < a; c += grain_size_) {
        Res r = spare_land_.Insert({c, c + grain_size_}, nullptr);
        (void)r;
        stats_.spare += grain_size_;
      }
      Res r = free_land_.Insert(range, nullptr);
      (void)r;
      TrimSpare(false);
      return Res::kResource;
    }
    a = b;
  }
  // Give back spare memory elsewhere to stay within the limit.
  if (stats_.committed > commit_limit_) DecommitSpare(stats_.committed - commit_limit_);

  for (Addr a = range.base; a < range.limit; a += grain_size_) {
    Grain(chunk, a) =
        GrainInfo{pool_id, type, static_cast<std::uint8_t>(kGrainCommitted | kGrainAllocated), 0};
  }
  Grain(chunk, range.base).flags |= kGrainHead;
  pool_bytes_[pool_id] += range.size();
  stats_.in_use += range.size();
  if (auto* o = observer_.get()) [[unlikely]] {
    o->OnSegmentAcquired(range, PoolOf(pool_id), type);
  }
  *segment = range;
  return Res::kOk;
}

Res Arena::Free(Range range) {
  std::lock_guard<std::mutex> lock(mutex_);
  return FreeLocked(range);
}

Res Arena::FreeLocked(Range range) {
  if (range.empty() || !IsAligned(range.base, grain_size_) ||
      !IsAligned(range.limit, grain_size_)) {
    return Res::kParam;
  }
  Chunk* chunk = ChunkOf(range.base);
  if (chunk == nullptr || !chunk->usable.Contains(range)) return Res::kParam;
  const std::uint32_t pool_id = Grain(chunk, range.base).pool_id;
  for (Addr a = range.base; a < range.limit; a += grain_size_) {
    const GrainInfo& g = Grain(chunk, a);
    if ((g.flags & kGrainAllocated) == 0 || g.pool_id != pool_id) return Res::kParam;
  }
  for (Addr a = range.base; a < range.limit; a += grain_size_) {
    Grain(chunk, a) = GrainInfo{0, SegmentType::kFree, kGrainCommitted, 0};
  }
  // If we freed the front of a segment, what remains starts a segment.
  if (range.limit < chunk->range.limit) {
    GrainInfo& next = Grain(chunk, range.limit);
    if ((next.flags & kGrainAllocated) != 0) next.flags |= kGrainHead;
  }
  pool_bytes_[pool_id] -= range.size();
  stats_.in_use -= range.size();
  // The node store has room for every block both lands can hold, so these
  // inserts cannot run out of nodes.
  Res res = free_land_.Insert(range, nullptr);
  if (res == Res::kOk) res = spare_land_.Insert(range, nullptr);
  if (res == Res::kOk) stats_.spare += range.size();
  if (auto* o = observer_.get()) [[unlikely]] {
    o->OnSegmentReleased(range, PoolOf(pool_id));
  }
  // Top the node reserve up for the next free; the memory just freed is
  // spare, so room can be made under the commit limit.
  Res reserve = EnsureNodeReserve(kNodeReserve);
  (void)reserve;  // Failing leaves fewer units; the next Alloc tries again.
  if (trim_holds_ == 0) TrimSpare(false);
  return res;
}

void Arena::FreeAllLocked(std::uint32_t pool_id) {
  if (pool_bytes_[pool_id] == 0) return;
  std::vector<Range> owned;
  for (const Chunk* chunk : chunks_) {
    for (Addr a = chunk->usable.base; a < chunk->usable.limit; a += grain_size_) {
      const GrainInfo& g = chunk->grains[chunk->Index(a, grain_size_)];
      if ((g.flags & kGrainAllocated) == 0 || g.pool_id != pool_id) continue;
      if (!owned.empty() && owned.back().limit == a) {
        owned.back().limit += grain_size_;
      } else {
        owned.push_back({a, a + grain_size_});
      }
    }
  }
  for (Range r : owned) {
    Res res = FreeLocked(r);
    (void)res;  // Each range is grain-aligned and owned by the pool.
  }
}

Res Arena::Retype(Range range, SegmentType type) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (range.empty() || !IsAligned(range.base, grain_size_) ||
      !IsAligned(range.limit, grain_size_)) {
    return Res::kParam;
  }
  Chunk* chunk = ChunkOf(range.base);
  if (chunk == nullptr || !chunk->usable.Contains(range)) return Res::kParam;
  for (Addr a = range.base; a < range.limit; a += grain_size_) {
    if ((Grain(chunk, a).flags & kGrainAllocated) == 0) return Res::kParam;
  }
  const SegmentType from = Grain(chunk, range.base).type;
  for (Addr a = range.base; a < range.limit; a += grain_size_) Grain(chunk, a).type = type;
  // The retyped grains become a segment of their own.
  Grain(chunk, range.base).flags |= kGrainHead;
  if (range.limit < chunk->range.limit) {
    GrainInfo& next = Grain(chunk, range.limit);
    if ((next.flags & kGrainAllocated) != 0) next.flags |= kGrainHead;
  }
  if (auto* o = observer_.get()) [[unlikely]] {
    o->OnSegmentRetyped(range, PoolOf(Grain(chunk, range.base).pool_id), from, type);
  }
  return Res::kOk;
}

std::uint32_t Arena::RegisterPool(const Pool* pool) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::uint32_t id;
  if (!free_pool_ids_.empty()) {
    id = free_pool_ids_.back();
    free_pool_ids_.pop_back();
    pools_[id] = pool;
  } else {
    id = static_cast<std::uint32_t>(pools_.size());
    pools_.push_back(pool);
    pool_bytes_.push_back(0);
  }
  return id;
}

void Arena::UnregisterPool(std::uint32_t pool_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (pool_id == 0 || pool_id >= pools_.size() || pools_[pool_id] == nullptr) return;
  FreeAllLocked(pool_id);
  pools_[pool_id] = nullptr;
  free_pool_ids_.push_back(pool_id);
}

std::size_t Arena::PoolBytes(std::uint32_t pool_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pool_id < pool_bytes_.size() ? pool_bytes_[pool_id] : 0;
}

const Pool* Arena::PoolOf(std::uint32_t pool_id) const {
  return pool_id < pools_.size() ? pools_[pool_id] : nullptr;
}

bool Arena::Lookup(Addr addr, GrainInfo* info) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Chunk* chunk = ChunkOf(addr);
  if (chunk == nullptr) return false;
  *info = Grain(chunk, AlignDown(addr, grain_size_));
  return true;
}

bool Arena::SegmentOf(Addr addr, Segment* segment) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Chunk* chunk = ChunkOf(addr);
  if (chunk == nullptr) return false;
  std::size_t i = chunk->Index(addr, grain_size_);
  const GrainInfo* g = chunk->grains;
  if ((g[i].flags & kGrainAllocated) == 0) return false;
  std::size_t first = i;
  while ((g[first].flags & kGrainHead) == 0) --first;
  const std::size_t grains = chunk->range.size() / grain_size_;
  std::size_t last = i + 1;
  while (last < grains && (g[last].flags & (kGrainAllocated | kGrainHead)) == kGrainAllocated &&
         g[last].pool_id == g[first].pool_id) {
    ++last;
  }
  *segment =
      Segment{{chunk->range.base + first * grain_size_, chunk->range.base + last * grain_size_},
              PoolOf(g[first].pool_id),
              g[first].type};
  return true;
}

void Arena::WalkSegments(FunctionRef<bool(const Segment&)> visit, const Pool* pool) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Chunk* chunk : chunks_) {
    const GrainInfo* g = chunk->grains;
    const std::size_t grains = chunk->range.size() / grain_size_;
    for (std::size_t i = 0; i < grains;) {
      if ((g[i].flags & kGrainAllocated) == 0) {
        ++i;
        continue;
      }
      std::size_t j = i + 1;
      while (j < grains && (g[j].flags & (kGrainAllocated | kGrainHead)) == kGrainAllocated &&
             g[j].pool_id == g[i].pool_id) {
        ++j;
      }
      const Pool* owner = PoolOf(g[i].pool_id);
      if (pool == nullptr || owner == pool) {
        const Segment segment{
            {chunk->range.base + i * grain_size_, chunk->range.base + j * grain_size_},
            owner,
            g[i].type};
        if (!visit(segment)) return;
      }
      i = j;
    }
  }
}

void Arena::WalkChunks(FunctionRef<void(Range chunk, const GrainInfo* grains)> visit) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Chunk* chunk : chunks_) visit(chunk->range, chunk->grains);
}

Res Arena::SetCommitLimit(std::size_t limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stats_.committed - stats_.spare > limit) return Res::kFail;
  if (stats_.committed > limit) DecommitSpare(stats_.committed - limit);
  commit_limit_ = limit;
  return Res::kOk;
}

void Arena::SetSpare(double spare) {
  std::lock_guard<std::mutex> lock(mutex_);
  spare_fraction_ = std::clamp(spare, 0.0, 1.0);
  TrimSpare(false);
}

void Arena::HoldTrim() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++trim_holds_;
}

void Arena::ReleaseTrim() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (--trim_holds_ == 0) TrimSpare(false);
}

void Arena::PurgeSpare() {
  std::lock_guard<std::mutex> lock(mutex_);
  TrimSpare(true);
}

ArenaStats Arena::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  ArenaStats stats = stats_;
  stats.commit_limit = commit_limit_;
  return stats;
}

CheckResult Arena::Check() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return CheckLocked();
}

CheckResult Arena::CheckLocked() const {
  CORE_CHECK(IsPowerOfTwo(grain_size_));
  CORE_CHECK(spare_fraction_ >= 0 && spare_fraction_ <= 1);
  CORE_CHECK(!chunks_.empty());
  CORE_CHECK(pools_.size() == pool_bytes_.size());
  std::size_t reserved = 0, committed = 0, control = 0, free_bytes = 0, spare = 0, in_use = 0;
  std::vector<std::size_t> pool_bytes(pools_.size(), 0);
  const Chunk* previous = nullptr;
  for (const Chunk* chunk : chunks_) {
    CORE_CHECK(previous == nullptr || previous->range.limit <= chunk->range.base);
    CORE_CHECK(chunk->range.Contains(chunk->usable));
    CORE_CHECK(IsAligned(chunk->range.base, grain_size_));
    previous = chunk;
    reserved += chunk->range.size();
    const std::size_t grains = chunk->range.size() / grain_size_;
    for (std::size_t i = 0; i < grains; ++i) {
      const GrainInfo& g = chunk->grains[i];
      const Addr a = chunk->range.base + i * grain_size_;
      const bool committed_grain = (g.flags & kGrainCommitted) != 0;
      const bool allocated = (g.flags & kGrainAllocated) != 0;
      if (committed_grain) committed += grain_size_;
      if (a < chunk->usable.base) {
        CORE_CHECK(allocated && g.type == SegmentType::kArenaControl);
        if (committed_grain) control += grain_size_;
        continue;
      }
      if (allocated) {
        CORE_CHECK_MSG(committed_grain, "allocated grain is not committed");
        CORE_CHECK(g.pool_id < pools_.size());
        CORE_CHECK(g.pool_id == 0 || pools_[g.pool_id] != nullptr);
        // A segment continues only within one pool.
        CORE_CHECK((g.flags & kGrainHead) != 0 ||
                   (i > 0 && (chunk->grains[i - 1].flags & kGrainAllocated) != 0 &&
                    chunk->grains[i - 1].pool_id == g.pool_id));
        pool_bytes[g.pool_id] += grain_size_;
        in_use += grain_size_;
      } else {
        CORE_CHECK(g.pool_id == 0 && g.type == SegmentType::kFree && (g.flags & kGrainHead) == 0);
        Range block;
        CORE_CHECK_MSG(free_land_.FindContaining(a, &block), "free grain not in free land");
        free_bytes += grain_size_;
        if (committed_grain) {
          CORE_CHECK_MSG(spare_land_.FindContaining(a, &block),
                         "committed free grain not in spare land");
          spare += grain_size_;
        }
      }
    }
  }
  CORE_CHECK(reserved == stats_.reserved);
  CORE_CHECK(control == stats_.control);
  CORE_CHECK_MSG(committed == stats_.committed,
                 std::to_string(committed) + " != " + std::to_string(stats_.committed));
  CORE_CHECK(free_bytes == free_land_.TotalSize());
  CORE_CHECK(spare == spare_land_.TotalSize());
  CORE_CHECK(spare == stats_.spare);
  CORE_CHECK(in_use == stats_.in_use);
  for (std::size_t id = 0; id < pools_.size(); ++id) CORE_CHECK(pool_bytes[id] == pool_bytes_[id]);
  CORE_CHECK(stats_.committed <= commit_limit_);
  CORE_CHECK(trim_holds_ >= 0);
  CORE_CHECK(trim_holds_ > 0 || stats_.spare <= SpareAllowance() + 1);
  CORE_CHECK_NESTED(free_land_.Check());
  CORE_CHECK_NESTED(spare_land_.Check());
  CORE_CHECK(node_store_.units_in_use() == free_land_.BlockCount() + spare_land_.BlockCount());
  return CheckResult::Ok();
}

void Arena::Describe(std::ostream& os) const {
  std::lock_guard<std::mutex> lock(mutex_);
  os << (client_ ? "Client" : "Virtual") << " arena, grain " << grain_size_ << ", "
     << chunks_.size() << " chunks\n"
     << "  reserved " << stats_.reserved << ", committed " << stats_.committed << " (control "
     << stats_.control << ", spare " << stats_.spare << "), in use " << stats_.in_use
     << ", commit limit " << commit_limit_ << ", spare fraction " << spare_fraction_ << "\n"
     << "  calls: reserve " << stats_.reserve_calls << ", commit " << stats_.commit_calls
     << ", decommit " << stats_.decommit_calls << "\n";
  for (const Chunk* chunk : chunks_) os << "  chunk " << chunk->range << "\n";
  os << "  free land: ";
  free_land_.Describe(os);
  os << "  spare land: ";
  spare_land_.Describe(os);
}

}  // namespace core
