// A coalescing block structure on a B+-tree: the free blocks of a land in
// wide nodes keyed by base address, each inner node caching, per child, the
// lowest base and the largest block of its subtree. Same answers as Cbs
// (first fit, last fit, worst fit, coalescing), but a descent visits two or
// three nodes instead of eight, and scans short arrays instead of chasing
// pointers. MVFF's free land; the arena keeps the one-node-per-block Cbs,
// whose node store it sizes. See core/land/DESIGN.md.
#ifndef CORE_LAND_BTREE_CBS_H_
#define CORE_LAND_BTREE_CBS_H_

#include <cstdint>

#include "core/base/fixed_allocator.h"
#include "core/land/land.h"

namespace core {

class BTreeCbs final : public Land {
 public:
  // Entries per node; every node but the root is at least half full. 24
  // keeps ~250 free blocks (MVFF's benchmark) in two levels while a node
  // (584 bytes) costs a free block less than the AVL Cbs's 64 bytes.
  static constexpr int kLeafCapacity = 24;
  static constexpr int kInnerCapacity = 24;
  static constexpr int kLeafMinFill = kLeafCapacity / 2;
  static constexpr int kSlots = kLeafCapacity > kInnerCapacity ? kLeafCapacity : kInnerCapacity;

  // One node type for leaves and inner nodes (one FixedAllocator unit size).
  // Leaves hold blocks: key = base, size = size. Inner nodes hold children:
  // key = the lowest base in the child's subtree, size = its largest block.
  // Keys and sizes are separate arrays, so a fit scans one dense array.
  struct Node {
    Addr key[kSlots];
    std::size_t size[kSlots];
    Node* child[kSlots];  // Inner nodes only.
    int count;
  };

  // `nodes` supplies tree nodes (unit_size() >= sizeof(Node)); it must
  // outlive the tree, which returns every node to it on destruction.
  explicit BTreeCbs(FixedAllocator* nodes);
  ~BTreeCbs() override;
  BTreeCbs(const BTreeCbs&) = delete;
  BTreeCbs& operator=(const BTreeCbs&) = delete;

  Res Insert(Range range, Range* coalesced) override;
  Res Delete(Range range, Range* old) override;
  bool FindFirst(std::size_t size, FindDelete mode, Range* found, Range* old) override;
  bool FindLast(std::size_t size, FindDelete mode, Range* found, Range* old) override;
  bool FindLargest(std::size_t size, FindDelete mode, Range* found, Range* old) override;
  void Iterate(FunctionRef<bool(Range)> visit) const override;
  std::size_t TotalSize() const override { return total_size_; }
  std::size_t BlockCount() const override { return count_; }
  CheckResult Check() const override;
  void Describe(std::ostream& os) const override;

  // Largest block size, 0 when empty. O(1).
  std::size_t LargestSize() const { return largest_; }
  // Levels of nodes (0 when empty), and nodes held.
  int height() const { return height_; }
  std::size_t node_count() const { return node_count_; }

 private:
  // A tree of half-full nodes holding 2^64 blocks has fewer levels.
  static constexpr int kMaxHeight = 17;
  struct Path;

  // Fills `path` with the descent towards `addr`; the leaf index is the
  // number of the leaf's blocks with base <= addr.
  void DescendTo(Addr addr, Path* path) const;
  // Fills `path` with the descent that takes entry pick(node) at each level.
  template <typename Pick>
  void DescendBy(Pick pick, Path* path) const;
  // Moves `path` to the first block of the next leaf; false at the end.
  bool NextLeaf(Path* path) const;
  // The cached largest block of the subtree at path level `level`.
  std::size_t* MaxSlot(const Path& path, int level);
  // After node `level`'s first key changed, updates the ancestors' keys.
  static void FixKeys(const Path& path, int level);
  // After node `level` changed, recomputes the maxima above it, stopping
  // where they no longer change.
  void FixMax(const Path& path, int level);
  // A block under node `level` grew to `size` / shrank from `old_size`.
  void Grew(const Path& path, int level, std::size_t size);
  // The same for a block in the leaf of `path`.
  void GrewLeaf(const Path& path, std::size_t size);
  void ShrankLeaf(const Path& path, std::size_t old_size);
  // Gets the nodes that inserting one entry at the end of `path` (in a
  // non-empty tree) needs: one per full node, plus a new root if they are
  // all full. kMemory gets none.
  Res ReserveNodes(const Path& path, Node** spare, int* count);
  // ReserveNodes' case of a full leaf.
  Res ReserveSplitNodes(const Path& path, Node** spare, int* count);
  // Inserts block (base, size) at the leaf index of `path`, splitting full
  // nodes with the `spare` nodes from ReserveNodes.
  void InsertEntry(Path& path, Addr base, std::size_t size, Node** spare, int spare_count);
  // InsertEntry's case of a full leaf.
  void InsertSplit(Path& path, Addr base, std::size_t size, Node** spare, int spare_count);
  // Removes the block at the leaf index of `path` and rebalances (which
  // leaves `path` unusable).
  void RemoveEntry(Path& path);
  // RemoveEntry's case of a leaf left under half full (or empty), after
  // entry `at`, of size `removed`, was erased.
  void Underflow(Path& path, int at, std::size_t removed);
  // Removes `part` from the block at the leaf of `path`; kMemory if that
  // splits the block and no node can be had (nothing is then changed).
  Res DeleteAt(Path& path, Range part);
  // Applies `mode` to the block at the leaf of `path`, filling out-params.
  bool FinishFind(Path& path, std::size_t size, FindDelete mode, Range* found, Range* old);
  void FreeSubtree(Node* node, int level);
  void FreeNode(Node* node);

  FixedAllocator* nodes_;
  Node* root_ = nullptr;
  int height_ = 0;
  std::size_t largest_ = 0;  // Largest block in the tree.
  std::size_t total_size_ = 0;
  std::size_t count_ = 0;
  std::size_t node_count_ = 0;
};

}  // namespace core

#endif  // CORE_LAND_BTREE_CBS_H_
