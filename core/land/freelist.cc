#include "core/land/freelist.h"

#include <cstring>

namespace core {
namespace {

constexpr Addr kSmallTag = 1;  // Set in the link of a one-word block.

Addr LoadWord(Addr a) {
  Addr w;
  std::memcpy(&w, ToPointer(a), sizeof w);
  return w;
}

void StoreWord(Addr a, Addr w) { std::memcpy(ToPointer(a), &w, sizeof w); }

}  // namespace

FreeList::FreeList(std::size_t alignment) : alignment_(alignment) {}

Addr FreeList::Next(Addr block) { return LoadWord(block) & ~kSmallTag; }

Addr FreeList::Limit(Addr block) {
  Addr link = LoadWord(block);
  return (link & kSmallTag) != 0 ? block + kWordSize : LoadWord(block + kWordSize);
}

void FreeList::Write(Addr base, Addr limit, Addr next) {
  if (limit - base == kWordSize) {
    StoreWord(base, next | kSmallTag);
  } else {
    StoreWord(base, next);
    StoreWord(base + kWordSize, limit);
  }
}

void FreeList::Relink(Addr prev, Addr next) {
  if (prev == 0) {
    head_ = next;
  } else {
    Write(prev, Limit(prev), next);
  }
}

Res FreeList::Insert(Range range, Range* coalesced) {
  if (range.empty() || !IsAligned(range.base, alignment_) || !IsAligned(range.limit, alignment_)) {
    return Res::kParam;
  }
  // Find the blocks either side of `range`.
  Addr prev = 0;
  Addr next = head_;
  while (next != 0 && next < range.base) {
    prev = next;
    next = Next(next);
  }
  if (prev != 0 && Limit(prev) > range.base) return Res::kFail;
  if (next != 0 && next < range.limit) return Res::kFail;

  Range block = range;
  Addr after = next;
  if (next != 0 && next == range.limit) {  // Coalesce with the successor.
    block.limit = Limit(next);
    after = Next(next);
    --count_;
  }
  if (prev != 0 && Limit(prev) == range.base) {  // Coalesce with the predecessor.
    block.base = prev;
    Write(prev, block.limit, after);
  } else {
    Write(block.base, block.limit, after);
    Relink(prev, block.base);
    ++count_;
  }
  total_size_ += range.size();
  if (coalesced != nullptr) *coalesced = block;
  return Res::kOk;
}

void FreeList::DeletePart(Addr prev, Range block, Range part) {
  const Addr next = Next(block.base);
  if (part == block) {
    Relink(prev, next);
    --count_;
  } else if (part.base == block.base) {
    Write(part.limit, block.limit, next);
    Relink(prev, part.limit);
  } else if (part.limit == block.limit) {
    Write(block.base, part.base, next);
  } else {
    // Split: the high fragment lives in its own memory, so no allocation.
    Write(part.limit, block.limit, next);
    Write(block.base, part.base, part.limit);
    ++count_;
  }
  total_size_ -= part.size();
}

Res FreeList::Delete(Range range, Range* old) {
  if (range.empty() || !IsAligned(range.base, alignment_) || !IsAligned(range.limit, alignment_)) {
    return Res::kParam;
  }
  Addr prev = 0;
  for (Addr b = head_; b != 0 && b <= range.base; prev = b, b = Next(b)) {
    const Range block{b, Limit(b)};
    if (block.Contains(range)) {
      DeletePart(prev, block, range);
      if (old != nullptr) *old = block;
      return Res::kOk;
    }
  }
  return Res::kFail;
}

bool FreeList::Finish(Addr prev, Range block, std::size_t size, FindDelete mode, Range* found,
                      Range* old) {
  const Range part = FindDeletePart(block, size, mode);
  if (mode != FindDelete::kNone) DeletePart(prev, block, part);
  if (found != nullptr) *found = part;
  if (old != nullptr) *old = block;
  return true;
}

bool FreeList::FindFirst(std::size_t size, FindDelete mode, Range* found, Range* old) {
  if (size == 0) return false;
  Addr prev = 0;
  for (Addr b = head_; b != 0; prev = b, b = Next(b)) {
    const Range block{b, Limit(b)};
    if (block.size() >= size) return Finish(prev, block, size, mode, found, old);
  }
  return false;
}

bool FreeList::FindLast(std::size_t size, FindDelete mode, Range* found, Range* old) {
  if (size == 0) return false;
  Addr best = 0, best_prev = 0;
  Addr prev = 0;
  for (Addr b = head_; b != 0; prev = b, b = Next(b)) {
    if (Limit(b) - b >= size) {
      best = b;
      best_prev = prev;
    }
  }
  if (best == 0) return false;
  return Finish(best_prev, {best, Limit(best)}, size, mode, found, old);
}

bool FreeList::FindLargest(std::size_t size, FindDelete mode, Range* found, Range* old) {
  if (size == 0) return false;
  Addr best = 0, best_prev = 0;
  std::size_t best_size = 0;
  Addr prev = 0;
  for (Addr b = head_; b != 0; prev = b, b = Next(b)) {
    const std::size_t s = Limit(b) - b;
    if (s > best_size) {
      best = b;
      best_prev = prev;
      best_size = s;
    }
  }
  if (best == 0 || best_size < size) return false;
  return Finish(best_prev, {best, best + best_size}, size, mode, found, old);
}

void FreeList::Iterate(FunctionRef<bool(Range)> visit) const {
  for (Addr b = head_; b != 0; b = Next(b)) {
    if (!visit({b, Limit(b)})) return;
  }
}

CheckResult FreeList::Check() const {
  CORE_CHECK(IsPowerOfTwo(alignment_) && alignment_ >= kWordSize);
  std::size_t total = 0, count = 0;
  Addr previous_limit = 0;
  for (Addr b = head_; b != 0; b = Next(b)) {
    const Addr limit = Limit(b);
    CORE_CHECK(b < limit);
    CORE_CHECK(IsAligned(b, alignment_) && IsAligned(limit, alignment_));
    // Strictly after the previous block: adjacent blocks would have coalesced.
    CORE_CHECK(count == 0 || previous_limit < b);
    previous_limit = limit;
    total += limit - b;
    ++count;
    CORE_CHECK(count <= count_);  // Also stops a cycle.
  }
  CORE_CHECK(count == count_);
  CORE_CHECK(total == total_size_);
  return CheckResult::Ok();
}

void FreeList::Describe(std::ostream& os) const {
  os << "FreeList " << count_ << " blocks, " << total_size_ << " bytes, alignment " << alignment_
     << "\n";
  Iterate([&os](Range block) {
    os << "  " << block << "\n";
    return true;
  });
}

}  // namespace core
