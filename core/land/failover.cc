#include "core/land/failover.h"

#include <vector>

namespace core {

Failover::Failover(Land* primary, Land* secondary) : primary_(primary), secondary_(secondary) {}

void Failover::Flush() {
  // Move one block at a time: each move may free or need a primary node.
  // The block leaves the secondary first, since a primary may write its own
  // tags into the block over the secondary's links.
  Range block;
  while (secondary_->FindFirst(1, FindDelete::kEntire, &block, nullptr)) {
    if (primary_->Insert(block, nullptr) != Res::kOk) {
      Res res = secondary_->Insert(block, nullptr);
      (void)res;  // The secondary needs no memory, and it just held the block.
      return;
    }
  }
}

Res Failover::InsertBoth(Range range, Range* coalesced) {
  Flush();
  if (secondary_->BlockCount() != 0) {
    // The primary sees only its own blocks: it would accept a range that
    // overlaps one left in the secondary.
    bool overlaps = false;
    secondary_->Iterate([&](Range block) {
      overlaps = block.Overlaps(range);
      return !overlaps && block.base < range.limit;
    });
    if (overlaps) return Res::kFail;
  }
  Res res = primary_->Insert(range, coalesced);
  if (res == Res::kMemory) res = secondary_->Insert(range, coalesced);
  return res;
}

Res Failover::Delete(Range range, Range* old) {
  Range block;
  Res res = primary_->Delete(range, &block);
  if (res == Res::kFail) return secondary_->Delete(range, old);
  if (res == Res::kMemory) {
    // The Cbs needs a node to split `block`. Take the whole block out (that
    // needs none) and keep the two fragments in the secondary.
    res = primary_->Delete(block, nullptr);
    if (res != Res::kOk) return res;
    for (Range fragment : {Range{block.base, range.base}, Range{range.limit, block.limit}}) {
      res = secondary_->Insert(fragment, nullptr);
      if (res != Res::kOk) return res;
    }
  }
  if (res == Res::kOk && old != nullptr) *old = block;
  return res;
}

template <typename Better>
bool Failover::FindInBoth(FindFn find, std::size_t size, FindDelete mode, Range* found, Range* old,
                          Better better) {
  // Ask both without deleting, then delete from the land whose answer wins.
  Range in_primary, in_secondary;
  const bool primary_found = (primary_->*find)(size, FindDelete::kNone, &in_primary, nullptr);
  const bool secondary_found = (secondary_->*find)(size, FindDelete::kNone, &in_secondary, nullptr);
  if (!primary_found && !secondary_found) return false;
  Land* land = primary_;
  if (!primary_found || (secondary_found && better(in_secondary, in_primary))) {
    land = secondary_;
  }
  // Deleting at the end of (or all of) a block never needs memory.
  return (land->*find)(size, mode, found, old);
}

bool Failover::FindFirstInBoth(std::size_t size, FindDelete mode, Range* found, Range* old) {
  return FindInBoth(&Land::FindFirst, size, mode, found, old,
                    [](Range a, Range b) { return a.base < b.base; });
}

bool Failover::FindLastInBoth(std::size_t size, FindDelete mode, Range* found, Range* old) {
  return FindInBoth(&Land::FindLast, size, mode, found, old,
                    [](Range a, Range b) { return a.base > b.base; });
}

bool Failover::FindLargestInBoth(std::size_t size, FindDelete mode, Range* found, Range* old) {
  return FindInBoth(&Land::FindLargest, size, mode, found, old, [](Range a, Range b) {
    // Of equal sizes, the lower address wins, as in a single land.
    return a.size() > b.size() || (a.size() == b.size() && a.base < b.base);
  });
}

void Failover::Iterate(FunctionRef<bool(Range)> visit) const {
  // Merge the two address-ordered sequences.
  std::vector<Range> secondary;
  secondary_->Iterate([&secondary](Range r) {
    secondary.push_back(r);
    return true;
  });
  std::size_t i = 0;
  bool go_on = true;
  primary_->Iterate([&](Range r) {
    while (go_on && i < secondary.size() && secondary[i].base < r.base) {
      go_on = visit(secondary[i++]);
    }
    if (go_on) go_on = visit(r);
    return go_on;
  });
  while (go_on && i < secondary.size()) go_on = visit(secondary[i++]);
}

CheckResult Failover::Check() const {
  CORE_CHECK_NESTED(primary_->Check());
  CORE_CHECK_NESTED(secondary_->Check());
  // No range may be in both lands.
  Range previous{0, 0};
  bool first = true;
  CheckResult result = CheckResult::Ok();
  Iterate([&](Range r) {
    if (!first && previous.limit > r.base) {
      result = CheckResult::Fail(
          CheckFailureText(__FILE__, __LINE__, "blocks of the two lands are disjoint", ""));
      return false;
    }
    first = false;
    previous = r;
    return true;
  });
  return result;
}

void Failover::Describe(std::ostream& os) const {
  os << "Failover primary:\n";
  primary_->Describe(os);
  os << "Failover secondary:\n";
  secondary_->Describe(os);
}

}  // namespace core
