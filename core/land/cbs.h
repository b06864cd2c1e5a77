// Coalescing block structure: the free blocks of a land in an AVL tree keyed
// by base address, each node augmented with the largest block size in its
// subtree (MPS's "fast" CBS, on a balanced tree instead of a splay tree so
// that every operation is O(log n) worst case and the structure does not
// change on lookups). See core/land/DESIGN.md.
#ifndef CORE_LAND_CBS_H_
#define CORE_LAND_CBS_H_

#include <cstdint>

#include "core/base/fixed_allocator.h"
#include "core/land/land.h"

namespace core {

class Cbs final : public Land {
 public:
  // One node per block, exactly one cache line. A node holds the largest
  // block size and the height of each child subtree, so a descent reads
  // only the nodes on its path, and fixing sizes after a change writes only
  // into ancestors already in cache.
  struct alignas(64) Node {
    Addr base;
    Addr limit;
    // Indexed by side (kLeft, kRight) so that descents choose a child with
    // an indexed load instead of an unpredictable branch.
    std::size_t child_max[2];  // Largest block in each child subtree (0: none).
    Node* child[2];
    std::int8_t child_height[2];
  };
  static constexpr int kLeft = 0;
  static constexpr int kRight = 1;

  // `nodes` supplies tree nodes (unit_size() >= sizeof(Node)); it must
  // outlive the Cbs. The Cbs returns every node to it on destruction.
  explicit Cbs(FixedAllocator* nodes);
  ~Cbs() override;
  Cbs(const Cbs&) = delete;
  Cbs& operator=(const Cbs&) = delete;

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

  // Removes every block, returning the nodes to the node allocator.
  void Clear();

  // Largest block size, 0 when empty. O(1).
  std::size_t LargestSize() const;
  // The block containing `addr`, if any. O(log n).
  bool FindContaining(Addr addr, Range* block) const;

 private:
  // An AVL tree of 2^64 blocks is under 93 levels deep.
  static constexpr int kMaxDepth = 96;
  struct Path;

  // After the block at path.nodes[index] changed size, updates the maxima
  // held by its ancestors, stopping where they no longer change.
  static void FixMaxUpward(const Path& path, int index);
  // Removes `part` from the block at path.nodes[index]; kMemory if a split
  // needs a node and none is available (nothing is then changed).
  Res DeleteAt(Path& path, int index, Range part);
  // Links `new_child` where path.nodes[index] (`old_child`) hangs.
  void LinkChild(const Path& path, int index, Node* old_child, Node* new_child);
  // The child subtree on `side` of path.nodes[index] changed shape:
  // restores balance and the cached facts from there upwards, stopping
  // early (where nothing changed) only at levels <= stop_from.
  void Retrace(const Path& path, int index, int side, int stop_from);
  // Attaches `node` below the last node of its search path, and rebalances.
  void InsertAt(Path& path, Node* node);
  void InsertNew(Node* node);
  // Unlinks and frees path.nodes[index] (the path may be extended to its
  // successor), and rebalances.
  void RemoveAt(Path& path, int index);
  // First fit (near = kLeft) or last fit (near = kRight).
  bool FindNear(int near, std::size_t size, FindDelete mode, Range* found, Range* old);
  // Applies `mode` to the block at the end of `path`, filling the out-params.
  bool FinishFind(Path& path, std::size_t size, FindDelete mode, Range* found, Range* old);
  // Removes every node, returning them to the node allocator.
  void FreeSubtree(Node* node);

  FixedAllocator* nodes_;
  Node* root_ = nullptr;
  std::size_t total_size_ = 0;
  std::size_t count_ = 0;
};

}  // namespace core

#endif  // CORE_LAND_CBS_H_
