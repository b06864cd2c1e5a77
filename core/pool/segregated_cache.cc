#include "core/pool/segregated_cache.h"

#include <algorithm>
#include <bit>
#include <string>
#include <unordered_set>

#include "core/base/address.h"
#include "core/pool/size_classes.h"

namespace core {
namespace {

// The largest power of two dividing every block size: the step of the
// size -> class table.
unsigned TableShift(std::span<const SacClass> classes) {
  std::size_t bits = 0;
  for (const SacClass& c : classes) bits |= c.block_size;
  return static_cast<unsigned>(std::countr_zero(bits));
}

}  // namespace

Res SegregatedCache::Validate(std::span<const SacClass> classes) {
  if (classes.empty() || classes.size() > kMaxClasses) return Res::kParam;
  for (std::size_t i = 0; i < classes.size(); ++i) {
    if (classes[i].block_size < kWordSize || classes[i].cached_count > UINT32_MAX) {
      return Res::kParam;
    }
    if (i > 0 && classes[i].block_size <= classes[i - 1].block_size) return Res::kParam;
  }
  if ((classes.back().block_size >> TableShift(classes)) > kMaxTableSize) return Res::kParam;
  return Res::kOk;
}

std::vector<SacClass> SegregatedCache::DefaultClasses(std::size_t cached_count) {
  std::vector<SacClass> classes;
  for (std::size_t size : kDefaultSizeClasses) classes.push_back({size, cached_count});
  return classes;
}

SegregatedCache::SegregatedCache(Pool* pool, std::span<const SacClass> classes)
    : pool_(pool), shift_(TableShift(classes)) {
  for (const SacClass& c : classes) {
    FreeList list;
    list.limit = static_cast<std::uint32_t>(c.cached_count);
    list.block_size = c.block_size;
    lists_.push_back(list);
  }
  // Entry k serves sizes (k << shift, (k + 1) << shift]: the smallest class
  // at least (k + 1) << shift.
  std::size_t c = 0;
  for (std::size_t k = 0; k < (classes.back().block_size >> shift_); ++k) {
    while (classes[c].block_size < ((k + 1) << shift_)) ++c;
    class_of_.push_back(static_cast<std::uint8_t>(c));
  }
}

SegregatedCache::~SegregatedCache() { Flush(); }

Res SegregatedCache::AllocSlow(std::size_t size, void** p) {
  if (size == 0) return Res::kParam;
  FreeList* list = ListFor(size);
  if (list == nullptr) {
    ++stats_.large;
    return pool_->Alloc(size, p);
  }
  // The class is empty: one block for the caller, and half the class's
  // capacity for the cache (fewer if the pool runs out after the first).
  Res res = pool_->Alloc(list->block_size, p);
  if (res != Res::kOk) return res;
  ++stats_.fills;
  ++stats_.blocks_filled;
  while (list->count < list->limit / 2) {
    void* block;
    if (pool_->Alloc(list->block_size, &block) != Res::kOk) break;
    *static_cast<void**>(block) = list->head;
    list->head = block;
    ++list->count;
    ++stats_.blocks_filled;
  }
  return Res::kOk;
}

Res SegregatedCache::FreeSlow(void* p, std::size_t size) {
  if (p == nullptr || size == 0) return Res::kParam;
  FreeList* list = ListFor(size);
  if (list == nullptr) return pool_->Free(p, size);
  if (list->limit == 0) return pool_->Free(p, list->block_size);
  // The class is full: return half of it, then cache this block.
  ++stats_.empties;
  Drain(*list, list->limit / 2);
  *static_cast<void**>(p) = list->head;
  list->head = p;
  ++list->count;
  return Res::kOk;
}

void SegregatedCache::Drain(FreeList& list, std::uint32_t keep) {
  while (list.count > keep) {
    void* block = list.head;
    list.head = *static_cast<void**>(block);
    --list.count;
    ++stats_.blocks_emptied;
    if (pool_->Free(block, list.block_size) != Res::kOk) ++stats_.refused;
  }
  // A list a double free made cyclic must not keep its head.
  if (list.count == 0) list.head = nullptr;
}

void SegregatedCache::Flush() {
  for (FreeList& list : lists_) Drain(list, 0);
}

std::size_t SegregatedCache::CachedBlocks() const {
  std::size_t blocks = 0;
  for (const FreeList& list : lists_) blocks += list.count;
  return blocks;
}

std::size_t SegregatedCache::CachedBytes() const {
  std::size_t bytes = 0;
  for (const FreeList& list : lists_) bytes += list.count * list.block_size;
  return bytes;
}

void SegregatedCache::WalkCached(FunctionRef<bool(Range)> visit) const {
  for (const FreeList& list : lists_) {
    for (const void* block = list.head; block != nullptr;
         block = *static_cast<void* const*>(block)) {
      if (!visit({ToAddr(block), ToAddr(block) + list.block_size})) return;
    }
  }
}

CheckResult SegregatedCache::Check() const {
  CORE_CHECK(pool_ != nullptr);
  CORE_CHECK(!lists_.empty() && lists_.size() <= kMaxClasses);
  CORE_CHECK(class_of_.size() == lists_.back().block_size >> shift_);
  for (std::size_t k = 0; k < class_of_.size(); ++k) {
    // The class for the largest size of the entry is the smallest that fits.
    const std::size_t c = class_of_[k];
    CORE_CHECK(lists_[c].block_size >= (k + 1) << shift_);
    CORE_CHECK(c == 0 || lists_[c - 1].block_size < (k + 1) << shift_);
  }
  std::unordered_set<const void*> seen;
  for (std::size_t c = 0; c < lists_.size(); ++c) {
    const FreeList& list = lists_[c];
    CORE_CHECK(list.block_size >= kWordSize);
    CORE_CHECK(c == 0 || list.block_size > lists_[c - 1].block_size);
    CORE_CHECK_MSG(list.count <= list.limit, "class " + std::to_string(list.block_size) +
                                                 " holds " + std::to_string(list.count));
    // Exactly `count` distinct blocks, then the end: a cycle or a block on
    // two lists (a double free into the cache) fails here.
    const void* block = list.head;
    for (std::uint32_t i = 0; i < list.count; ++i) {
      CORE_CHECK_MSG(block != nullptr, "class " + std::to_string(list.block_size) +
                                           " list ends after " + std::to_string(i) + " of " +
                                           std::to_string(list.count) + " blocks");
      CORE_CHECK_MSG(seen.insert(block).second, "a block is cached twice");
      block = *static_cast<void* const*>(block);
    }
    CORE_CHECK_MSG(block == nullptr,
                   "class " + std::to_string(list.block_size) + " list runs past its count");
  }
  CORE_CHECK_NESTED(pool_->Check());
  return CheckResult::Ok();
}

void SegregatedCache::Describe(std::ostream& os) const {
  os << "SegregatedCache on " << pool_->class_name() << " pool " << pool_->id() << ": "
     << CachedBlocks() << " blocks, " << CachedBytes() << " bytes cached; " << stats_.fills
     << " fills (" << stats_.blocks_filled << " blocks), " << stats_.empties << " empties ("
     << stats_.blocks_emptied << " blocks returned, " << stats_.refused << " refused), "
     << stats_.large << " large\n ";
  for (const FreeList& list : lists_)
    os << " " << list.block_size << ":" << list.count << "/" << list.limit;
  os << "\n";
}

}  // namespace core
