#include "core/land/btree_cbs.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

namespace core {
namespace {

using Node = BTreeCbs::Node;
constexpr int kSlots = BTreeCbs::kSlots;  // Array length in every node.

constexpr int Capacity(bool inner) {
  return inner ? BTreeCbs::kInnerCapacity : BTreeCbs::kLeafCapacity;
}
constexpr int MinFill(bool inner) { return Capacity(inner) / 2; }

// Unused slots hold these, so that searches need not look at the count.
constexpr Addr kNoKey = ~Addr{0};

void ClearFrom(Node* n, int from) {
  for (int i = from; i < kSlots; ++i) {
    n->key[i] = kNoKey;
    n->size[i] = 0;
  }
}

// The number of keys <= addr among the first kWidth slots of the node
// (unused slots hold kNoKey, above any base). A count over every slot, not
// a binary search: its loads and compares are independent, where a search
// is a chain of dependent loads (or of mispredicted branches).
// Four sums: gcc adds each compare with sbb, so one sum would be a chain
// of kWidth dependent instructions on the free's critical path.
template <int kWidth>
int UpperBound(const Node* n, Addr addr) {
  static_assert(kWidth <= kSlots && kWidth % 4 == 0);
  int count[4] = {0, 0, 0, 0};
#pragma GCC unroll 8
  for (int i = 0; i < kWidth; i += 4) {
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) count[j] += static_cast<int>(n->key[i + j] <= addr);
  }
  return (count[0] + count[1]) + (count[2] + count[3]);
}

// Shifts `slot < size` into the low bit of `mask`: cmp and adc, two
// instructions where gcc makes five of `mask |= (slot >= size) << i`.
[[gnu::always_inline]] inline void ShiftInNoFit(unsigned& mask, std::size_t slot,
                                                std::size_t size) {
#if defined(__x86_64__)
  // Asm: gcc keeps _addcarry_u32's out-parameters in memory once inlined.
  asm("cmpq %[size], %[slot]\n\tadcl %[mask], %[mask]"
      : [mask] "+r"(mask)
      : [slot] "rm"(slot), [size] "r"(size)
      : "cc");
#else
  mask = 2 * mask + (slot < size);
#endif
}

// Bit i is set when slot i holds a size < `size` (unused slots hold 0).
// Independent compares instead of a scan: the first or last fit is then a
// bit count, with no mispredicted loop exit. Three chains keep the adc
// chains short.
[[gnu::always_inline]] inline std::uint32_t NoFitMask(const Node* n, std::size_t size) {
  constexpr int kChain = BTreeCbs::kLeafCapacity / 3;
  static_assert(kChain * 3 == BTreeCbs::kLeafCapacity && kChain <= 10);
  unsigned low = 0, middle = 0, high = 0;
#pragma GCC unroll 16
  for (int i = kChain - 1; i >= 0; --i) {
    ShiftInNoFit(low, n->size[i], size);
    ShiftInNoFit(middle, n->size[kChain + i], size);
    ShiftInNoFit(high, n->size[2 * kChain + i], size);
  }
  return low | middle << kChain | high << (2 * kChain);
}

// The first and last slots holding a size >= `size`, which must exist. In
// a leaf, from a mask (the answer is unpredictable); an inner node is
// scanned, since the root's entries change rarely and predict well.
int FirstFit(const Node* n, std::size_t size, bool leaf) {
  if (leaf) return std::countr_one(NoFitMask(n, size));
  int i = 0;
  while (n->size[i] < size) ++i;
  return i;
}

int LastFit(const Node* n, std::size_t size, bool leaf) {
  if (leaf)
    return 31 - std::countl_one(NoFitMask(n, size) | ~std::uint32_t{0} << BTreeCbs::kLeafCapacity);
  int i = n->count - 1;
  while (n->size[i] < size) --i;
  return i;
}

// The largest size in a leaf. Unused slots hold 0, so it is read whole,
// without a loop exit to mispredict, in four independent chains.
[[gnu::always_inline]] inline std::size_t LeafMax(const Node* n) {
  static_assert(BTreeCbs::kLeafCapacity % 4 == 0);
  std::size_t m[4] = {0, 0, 0, 0};
#pragma GCC unroll 8
  for (int i = 0; i < BTreeCbs::kLeafCapacity; i += 4) {
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      m[j] = std::max(m[j], n->size[i + j]);
      // Opaque to gcc, which would otherwise reassociate the four chains
      // into one of 24 dependent compare-and-moves.
      asm("" : "+r"(m[j]));
    }
  }
  return std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
}

std::size_t NodeMax(const Node* n, bool leaf) {
  if (leaf) return LeafMax(n);
  std::size_t m = 0;
  for (int i = 0; i < n->count; ++i) m = std::max(m, n->size[i]);
  return m;
}

// Moves entries [from, from + count) of `src` to `dst` starting at `to`
// (the ranges may overlap when src == dst). Leaves have no children.
void MoveEntries(Node* dst, int to, const Node* src, int from, int count, bool inner) {
  if (count <= 0) return;
  std::memmove(&dst->key[to], &src->key[from], count * sizeof(Addr));
  std::memmove(&dst->size[to], &src->size[from], count * sizeof(std::size_t));
  if (inner) std::memmove(&dst->child[to], &src->child[from], count * sizeof(Node*));
}

void SetEntry(Node* n, int at, Addr key, std::size_t size, Node* child) {
  n->key[at] = key;
  n->size[at] = size;
  n->child[at] = child;
}

void InsertAt(Node* n, int at, Addr key, std::size_t size, Node* child, bool inner) {
  MoveEntries(n, at + 1, n, at, n->count - at, inner);
  SetEntry(n, at, key, size, child);
  ++n->count;
}

void EraseAt(Node* n, int at, bool inner) {
  --n->count;
  MoveEntries(n, at, n, at + 1, n->count - at, inner);
  n->key[n->count] = kNoKey;  // The slots above were unused already.
  n->size[n->count] = 0;
}

// Inserts an entry at `at` of the full node `left`, moving the upper half of
// the capacity + 1 entries to the empty node `right`.
void SplitInsert(Node* left, Node* right, int at, Addr key, std::size_t size, Node* child,
                 bool inner) {
  const int capacity = Capacity(inner);
  const int left_count = (capacity + 1) / 2;
  const int right_count = capacity + 1 - left_count;
  if (at < left_count) {
    MoveEntries(right, 0, left, left_count - 1, right_count, inner);
    left->count = left_count - 1;
    InsertAt(left, at, key, size, child, inner);
  } else {
    MoveEntries(right, 0, left, left_count, at - left_count, inner);
    SetEntry(right, at - left_count, key, size, child);
    MoveEntries(right, at - left_count + 1, left, at, capacity - at, inner);
    left->count = left_count;
  }
  right->count = right_count;
  ClearFrom(left, left->count);
  ClearFrom(right, right->count);
}

// Evens out the entries of two siblings, whose total exceeds one node.
void Redistribute(Node* left, Node* right, bool inner) {
  const int target = (left->count + right->count) / 2;
  if (left->count < target) {
    const int moved = target - left->count;
    MoveEntries(left, left->count, right, 0, moved, inner);
    MoveEntries(right, 0, right, moved, right->count - moved, inner);
    left->count += moved;
    right->count -= moved;
    ClearFrom(right, right->count);
  } else {
    const int moved = left->count - target;
    MoveEntries(right, moved, right, 0, right->count, inner);
    MoveEntries(right, 0, left, target, moved, inner);
    left->count -= moved;
    right->count += moved;
    ClearFrom(left, left->count);
  }
}

struct Walk {
  std::size_t nodes = 0;
  std::size_t total = 0;
  std::size_t count = 0;
  bool any = false;
  Addr previous_limit = 0;
};

// Checks the subtree at `n` (at `level`; leaves at `leaf`), reporting its
// lowest base and largest block.
CheckResult CheckNode(const Node* n, int level, int leaf, Walk* walk, Addr* lowest,
                      std::size_t* largest) {
  const bool inner = level != leaf;
  CORE_CHECK(n->count <= Capacity(inner));
  if (level == 0) {
    CORE_CHECK(n->count >= (inner ? 2 : 1));
  } else {
    CORE_CHECK_MSG(n->count >= MinFill(inner), "node holds " + std::to_string(n->count));
  }
  ++walk->nodes;
  for (int i = n->count; i < kSlots; ++i) {
    CORE_CHECK_MSG(n->key[i] == kNoKey && n->size[i] == 0, "unused slot " + std::to_string(i));
  }
  std::size_t m = 0;
  for (int i = 0; i < n->count; ++i) {
    if (level == leaf) {
      const Addr base = n->key[i];
      const std::size_t size = n->size[i];
      CORE_CHECK(size > 0 && base + size > base);
      // Strictly apart: touching blocks would have coalesced.
      CORE_CHECK(!walk->any || walk->previous_limit < base);
      walk->any = true;
      walk->previous_limit = base + size;
      walk->total += size;
      ++walk->count;
    } else {
      Addr child_lowest;
      std::size_t child_largest;
      CORE_CHECK(n->child[i] != nullptr);
      CORE_CHECK_NESTED(
          CheckNode(n->child[i], level + 1, leaf, walk, &child_lowest, &child_largest));
      CORE_CHECK(n->key[i] == child_lowest);
      CORE_CHECK(n->size[i] == child_largest);
    }
    m = std::max(m, n->size[i]);
  }
  *lowest = n->key[0];
  *largest = m;
  return CheckResult::Ok();
}

}  // namespace

// The nodes of one descent and the entry taken in each (in the leaf: the
// block, or for an address descent the number of blocks at or below it).
struct BTreeCbs::Path {
  Node* node[kMaxHeight];
  int index[kMaxHeight];
};

BTreeCbs::BTreeCbs(FixedAllocator* nodes) : nodes_(nodes) {}

BTreeCbs::~BTreeCbs() {
  if (root_ != nullptr) FreeSubtree(root_, 0);
}

void BTreeCbs::FreeSubtree(Node* node, int level) {
  if (level < height_ - 1) {
    for (int i = 0; i < node->count; ++i) FreeSubtree(node->child[i], level + 1);
  }
  FreeNode(node);
}

void BTreeCbs::FreeNode(Node* node) {
  --node_count_;
  nodes_->FreeUnit(node);
}

// Inlined into Insert and Delete (as FinishFind into the finds), so the
// leaf and index of the path stay in registers instead of being stored and
// reloaded (a few percent of an MVFF alloc+free pair).
[[gnu::always_inline]] inline void BTreeCbs::DescendTo(Addr addr, Path* path) const {
  const int leaf = height_ - 1;
  Node* n = root_;
  for (int level = 0; level < leaf; ++level) {
    const int i = std::max(UpperBound<kInnerCapacity>(n, addr) - 1, 0);
    path->node[level] = n;
    path->index[level] = i;
    n = n->child[i];
  }
  path->node[leaf] = n;
  path->index[leaf] = UpperBound<kLeafCapacity>(n, addr);
}

bool BTreeCbs::NextLeaf(Path* path) const {
  int level = height_ - 2;
  while (level >= 0 && path->index[level] + 1 >= path->node[level]->count) --level;
  if (level < 0) return false;
  ++path->index[level];
  for (; level < height_ - 1; ++level) {
    path->node[level + 1] = path->node[level]->child[path->index[level]];
    path->index[level + 1] = 0;
  }
  return true;
}

std::size_t* BTreeCbs::MaxSlot(const Path& path, int level) {
  return level == 0 ? &largest_ : &path.node[level - 1]->size[path.index[level - 1]];
}

void BTreeCbs::FixKeys(const Path& path, int level) {
  for (int l = level; l > 0; --l) {
    const int i = path.index[l - 1];
    path.node[l - 1]->key[i] = path.node[l]->key[0];
    if (i != 0) return;  // Not the parent's first child: its key is unchanged.
  }
}

void BTreeCbs::FixMax(const Path& path, int level) {
  for (int l = level; l >= 0; --l) {
    std::size_t* slot = MaxSlot(path, l);
    const std::size_t old_max = *slot;
    const std::size_t m = NodeMax(path.node[l], l == height_ - 1);
    if (m == old_max) return;
    *slot = m;
    if (m > old_max) return Grew(path, l - 1, m);
    // It shrank: the parent's maximum changes only if this was it.
    if (l > 0 && *MaxSlot(path, l - 1) > old_max) return;
  }
}

void BTreeCbs::Grew(const Path& path, int level, std::size_t size) {
  for (int l = level; l >= 0; --l) {
    std::size_t* slot = MaxSlot(path, l);
    if (*slot >= size) return;
    *slot = size;
  }
}

// The leaf's step inline: usually the parent's maximum stops it.
[[gnu::always_inline]] inline void BTreeCbs::GrewLeaf(const Path& path, std::size_t size) {
  const int leaf = height_ - 1;
  std::size_t* slot = MaxSlot(path, leaf);
  if (*slot >= size) return;
  *slot = size;
  Grew(path, leaf - 1, size);
}

[[gnu::always_inline]] inline void BTreeCbs::ShrankLeaf(const Path& path, std::size_t old_size) {
  // Only the subtree's largest block shrinking changes any maximum.
  const int leaf = height_ - 1;
  std::size_t* slot = MaxSlot(path, leaf);
  if (*slot > old_size) return;
  // The leaf's step of FixMax, inline: its new maximum is below the old.
  const std::size_t m = LeafMax(path.node[leaf]);
  if (m == *slot) return;
  *slot = m;
  if (leaf > 0 && *MaxSlot(path, leaf - 1) > old_size) return;
  if (leaf > 0) FixMax(path, leaf - 1);
}

[[gnu::always_inline]] inline Res BTreeCbs::ReserveNodes(const Path& path, Node** spare,
                                                         int* count) {
  *count = 0;
  if (path.node[height_ - 1]->count < kLeafCapacity) [[likely]]
    return Res::kOk;
  return ReserveSplitNodes(path, spare, count);
}

Res BTreeCbs::ReserveSplitNodes(const Path& path, Node** spare, int* count) {
  int level = height_ - 1;
  while (level >= 0 && path.node[level]->count == Capacity(level != height_ - 1)) --level;
  int needed = height_ - 1 - level;
  if (level < 0) {  // The root splits too: a new root goes above it.
    if (height_ == kMaxHeight) return Res::kMemory;
    ++needed;
  }
  for (int i = 0; i < needed; ++i) {
    void* unit;
    if (nodes_->AllocUnit(&unit) != Res::kOk) {
      while (i > 0) nodes_->FreeUnit(spare[--i]);
      return Res::kMemory;
    }
    spare[i] = static_cast<Node*>(unit);
  }
  node_count_ += needed;
  *count = needed;
  return Res::kOk;
}

[[gnu::always_inline]] inline void BTreeCbs::InsertEntry(Path& path, Addr base, std::size_t size,
                                                         Node** spare, int spare_count) {
  ++count_;
  const int leaf = height_ - 1;
  Node* n = path.node[leaf];
  if (n->count == kLeafCapacity) [[unlikely]] {
    return InsertSplit(path, base, size, spare, spare_count);
  }
  const int at = path.index[leaf];
  InsertAt(n, at, base, size, nullptr, /*inner=*/false);
  if (at == 0) FixKeys(path, leaf);
  GrewLeaf(path, size);
}

void BTreeCbs::InsertSplit(Path& path, Addr base, std::size_t size, Node** spare, int spare_count) {
  const int leaf = height_ - 1;
  // A full node splits and passes its new right half up as an entry of the
  // parent.
  Addr key = base;
  std::size_t max = size;
  Node* child = nullptr;
  for (int level = leaf; level >= 0; --level) {
    Node* n = path.node[level];
    const bool inner = level != leaf;
    const int at = inner ? path.index[level] + 1 : path.index[level];
    if (n->count < Capacity(inner)) {
      InsertAt(n, at, key, max, child, inner);
      FixKeys(path, level);
      // Below here every changed entry was recomputed; from here up the
      // subtrees only gained the new block.
      Grew(path, level, size);
      return;
    }
    Node* right = spare[--spare_count];
    SplitInsert(n, right, at, key, max, child, inner);
    if (level > 0) {
      const int i = path.index[level - 1];
      path.node[level - 1]->key[i] = n->key[0];
      path.node[level - 1]->size[i] = NodeMax(n, !inner);
    }
    key = right->key[0];
    max = NodeMax(right, !inner);
    child = right;
  }
  // The root split: a new root above its two halves.
  Node* root = spare[--spare_count];
  root->count = 2;
  ClearFrom(root, 2);
  SetEntry(root, 0, root_->key[0], NodeMax(root_, height_ == 1), root_);
  SetEntry(root, 1, key, max, child);
  root_ = root;
  ++height_;
  largest_ = std::max(root->size[0], root->size[1]);
}

[[gnu::always_inline]] inline void BTreeCbs::RemoveEntry(Path& path) {
  --count_;
  const int leaf = height_ - 1;
  Node* n = path.node[leaf];
  const int at = path.index[leaf];
  const std::size_t removed = n->size[at];
  EraseAt(n, at, /*inner=*/false);
  if (n->count < kLeafMinFill) [[unlikely]]
    return Underflow(path, at, removed);
  if (at == 0) FixKeys(path, leaf);
  ShrankLeaf(path, removed);
}

void BTreeCbs::Underflow(Path& path, int at, std::size_t removed) {
  int level = height_ - 1;
  Node* n = path.node[level];
  if (n->count == 0) {  // Only the root can empty: the tree is now empty.
    FreeNode(n);
    root_ = nullptr;
    height_ = 0;
    largest_ = 0;
    return;
  }
  if (at == 0) FixKeys(path, level);
  ShrankLeaf(path, removed);
  // Rebalancing moves entries between siblings under one parent, which
  // changes neither the parent's lowest key nor its largest block.
  for (; level > 0 && path.node[level]->count < MinFill(level != height_ - 1); --level) {
    Node* parent = path.node[level - 1];
    const int left_index = std::max(path.index[level - 1] - 1, 0);
    Node* left = parent->child[left_index];
    Node* right = parent->child[left_index + 1];
    const bool inner = level != height_ - 1;
    if (left->count + right->count <= Capacity(inner)) {
      MoveEntries(left, left->count, right, 0, right->count, inner);
      left->count += right->count;
      FreeNode(right);
      parent->size[left_index] = std::max(parent->size[left_index], parent->size[left_index + 1]);
      EraseAt(parent, left_index + 1, /*inner=*/true);
    } else {
      Redistribute(left, right, inner);
      parent->key[left_index + 1] = right->key[0];
      parent->size[left_index] = NodeMax(left, !inner);
      parent->size[left_index + 1] = NodeMax(right, !inner);
    }
  }
  if (level == 0 && height_ > 1 && root_->count == 1) {
    Node* old_root = root_;
    root_ = old_root->child[0];
    FreeNode(old_root);
    --height_;
  }
}

Res BTreeCbs::DeleteAt(Path& path, Range part) {
  const int leaf = height_ - 1;
  Node* n = path.node[leaf];
  const int at = path.index[leaf];
  const Range block{n->key[at], n->key[at] + n->size[at]};
  if (part == block) {
    RemoveEntry(path);
  } else if (part.base == block.base) {
    n->key[at] = part.limit;
    n->size[at] -= part.size();
    if (at == 0) FixKeys(path, leaf);
    ShrankLeaf(path, block.size());
  } else if (part.limit == block.limit) {
    n->size[at] -= part.size();
    ShrankLeaf(path, block.size());
  } else {
    // Splitting adds an entry: get its nodes first so failure changes nothing.
    Node* spare[kMaxHeight + 1];
    int spare_count;
    if (ReserveNodes(path, spare, &spare_count) != Res::kOk) return Res::kMemory;
    n->size[at] = part.base - block.base;
    ShrankLeaf(path, block.size());
    path.index[leaf] = at + 1;
    InsertEntry(path, part.limit, block.limit - part.limit, spare, spare_count);
  }
  total_size_ -= part.size();
  return Res::kOk;
}

Res BTreeCbs::Insert(Range range, Range* coalesced) {
  if (range.empty()) return Res::kParam;
  if (root_ == nullptr) {
    void* unit;
    if (nodes_->AllocUnit(&unit) != Res::kOk) return Res::kMemory;
    ++node_count_;
    root_ = static_cast<Node*>(unit);
    root_->count = 0;
    ClearFrom(root_, 0);
    InsertAt(root_, 0, range.base, range.size(), nullptr, /*inner=*/false);
    height_ = 1;
    largest_ = total_size_ = range.size();
    count_ = 1;
    if (coalesced != nullptr) *coalesced = range;
    return Res::kOk;
  }
  Path path;
  // The predecessor is in the leaf the descent reaches (keys are the exact
  // lowest bases); the successor is there too or first in the next leaf.
  DescendTo(range.base, &path);
  const int leaf = height_ - 1;
  Node* n = path.node[leaf];
  const int at = path.index[leaf];
  const int pred = at - 1;
  if (pred >= 0 && n->key[pred] + n->size[pred] > range.base) return Res::kFail;
  Path next;
  Path* succ_path = &path;
  if (at == n->count) {
    next = path;
    succ_path = NextLeaf(&next) ? &next : nullptr;
  }
  Node* succ_node = succ_path != nullptr ? succ_path->node[leaf] : nullptr;
  const int succ = succ_path == &path ? at : 0;
  if (succ_node != nullptr && succ_node->key[succ] < range.limit) return Res::kFail;
  const bool merge_left = pred >= 0 && n->key[pred] + n->size[pred] == range.base;
  const bool merge_right = succ_node != nullptr && succ_node->key[succ] == range.limit;

  Range block = range;
  if (merge_left) {
    if (merge_right) block.limit = succ_node->key[succ] + succ_node->size[succ];
    block.base = n->key[pred];
    n->size[pred] = block.size();
    path.index[leaf] = pred;
    GrewLeaf(path, block.size());
    if (merge_right) {
      // Grew fixed the shared ancestors first, so removing the successor
      // (which may rebalance, invalidating `path`) sees a sound tree.
      succ_path->index[leaf] = succ;
      RemoveEntry(*succ_path);
    }
  } else if (merge_right) {
    block.limit = succ_node->key[succ] + succ_node->size[succ];
    succ_node->key[succ] = range.base;
    succ_node->size[succ] = block.size();
    succ_path->index[leaf] = succ;
    if (succ == 0) FixKeys(*succ_path, leaf);
    GrewLeaf(*succ_path, block.size());
  } else {
    Node* spare[kMaxHeight + 1];
    int spare_count;
    if (ReserveNodes(path, spare, &spare_count) != Res::kOk) return Res::kMemory;
    InsertEntry(path, range.base, range.size(), spare, spare_count);
  }
  total_size_ += range.size();
  if (coalesced != nullptr) *coalesced = block;
  return Res::kOk;
}

Res BTreeCbs::Delete(Range range, Range* old) {
  if (range.empty()) return Res::kParam;
  if (root_ == nullptr) return Res::kFail;
  Path path;
  DescendTo(range.base, &path);
  const int leaf = height_ - 1;
  const Node* n = path.node[leaf];
  const int at = path.index[leaf] - 1;  // The block with the greatest base <= range.base.
  if (at < 0 || n->key[at] + n->size[at] < range.limit) return Res::kFail;
  // The containing block is reported on kMemory too: Failover needs it.
  if (old != nullptr) *old = {n->key[at], n->key[at] + n->size[at]};
  path.index[leaf] = at;
  return DeleteAt(path, range);
}

template <typename Pick>
void BTreeCbs::DescendBy(Pick pick, Path* path) const {
  Node* n = root_;
  for (int level = 0;; ++level) {
    const bool leaf = level == height_ - 1;
    const int i = pick(n, leaf);
    path->node[level] = n;
    path->index[level] = i;
    if (leaf) return;
    n = n->child[i];
  }
}

[[gnu::always_inline]] inline bool BTreeCbs::FinishFind(Path& path, std::size_t size,
                                                        FindDelete mode, Range* found, Range* old) {
  const int leaf = height_ - 1;
  Node* n = path.node[leaf];
  const int at = path.index[leaf];
  const Range block{n->key[at], n->key[at] + n->size[at]};
  if (old != nullptr) *old = block;
  if (mode == FindDelete::kNone) {
    if (found != nullptr) *found = block;
    return true;
  }
  // Deleting at an end or the whole block never needs a node.
  const Range part = FindDeletePart(block, size, mode);
  if (found != nullptr) *found = part;
  if (part == block) {
    RemoveEntry(path);
  } else {
    if (mode == FindDelete::kLow) {
      n->key[at] = part.limit;
      if (at == 0) FixKeys(path, leaf);
    }
    n->size[at] -= size;
    ShrankLeaf(path, block.size());
  }
  total_size_ -= part.size();
  return true;
}

// Each find descends by the cached maxima: every node on the way holds an
// entry that fits, so the scans need no bound.
bool BTreeCbs::FindFirst(std::size_t size, FindDelete mode, Range* found, Range* old) {
  if (size == 0 || largest_ < size) return false;
  Path path;
  DescendBy([size](const Node* n, bool leaf) { return FirstFit(n, size, leaf); }, &path);
  return FinishFind(path, size, mode, found, old);
}

bool BTreeCbs::FindLast(std::size_t size, FindDelete mode, Range* found, Range* old) {
  if (size == 0 || largest_ < size) return false;
  Path path;
  DescendBy([size](const Node* n, bool leaf) { return LastFit(n, size, leaf); }, &path);
  return FinishFind(path, size, mode, found, old);
}

bool BTreeCbs::FindLargest(std::size_t size, FindDelete mode, Range* found, Range* old) {
  if (size == 0 || largest_ < size) return false;
  // Of several largest blocks, the lowest-addressed one.
  const std::size_t largest = largest_;
  Path path;
  DescendBy(
      [largest](const Node* n, bool) {
        int i = 0;
        while (n->size[i] != largest) ++i;
        return i;
      },
      &path);
  return FinishFind(path, size, mode, found, old);
}

void BTreeCbs::Iterate(FunctionRef<bool(Range)> visit) const {
  if (root_ == nullptr) return;
  Path path;
  DescendBy([](const Node*, bool) { return 0; }, &path);
  do {
    const Node* n = path.node[height_ - 1];
    for (int i = 0; i < n->count; ++i) {
      if (!visit({n->key[i], n->key[i] + n->size[i]})) return;
    }
  } while (NextLeaf(&path));
}

CheckResult BTreeCbs::Check() const {
  CORE_CHECK(nodes_ != nullptr);
  CORE_CHECK(nodes_->unit_size() >= sizeof(Node));
  CORE_CHECK((root_ == nullptr) == (height_ == 0));
  CORE_CHECK(height_ >= 0 && height_ <= kMaxHeight);
  Walk walk;
  if (root_ != nullptr) {
    Addr lowest;
    std::size_t largest;
    CORE_CHECK_NESTED(CheckNode(root_, 0, height_ - 1, &walk, &lowest, &largest));
    CORE_CHECK(largest == largest_);
  } else {
    CORE_CHECK(largest_ == 0);
  }
  CORE_CHECK_MSG(walk.total == total_size_, "tree holds " + std::to_string(walk.total) +
                                                " bytes, counter says " +
                                                std::to_string(total_size_));
  CORE_CHECK(walk.count == count_);
  CORE_CHECK(walk.nodes == node_count_);
  return CheckResult::Ok();
}

void BTreeCbs::Describe(std::ostream& os) const {
  os << "BTreeCbs " << count_ << " blocks, " << total_size_ << " bytes, largest " << largest_
     << ", height " << height_ << "\n";
  Iterate([&os](Range block) {
    os << "  " << block << "\n";
    return true;
  });
}

}  // namespace core
