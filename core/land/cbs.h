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
  struct Node {
    Addr base;
    Addr limit;
    std::size_t max_size;  // Largest block size in this subtree.
    Node* left;
    Node* right;
    std::int32_t height;
  };

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
  std::size_t LargestSize() const { return root_ == nullptr ? 0 : root_->max_size; }
  // The block containing `addr`, if any. O(log n).
  bool FindContaining(Addr addr, Range* block) const;

 private:
  // Applies `mode` to the block found for `size`, filling the out-params.
  bool FinishFind(const Node* node, std::size_t size, FindDelete mode, Range* found,
                  Range* old);
  // Removes every node, returning them to the node allocator.
  void FreeSubtree(Node* node);

  FixedAllocator* nodes_;
  Node* root_ = nullptr;
  std::size_t total_size_ = 0;
  std::size_t count_ = 0;
};

}  // namespace core

#endif  // CORE_LAND_CBS_H_
