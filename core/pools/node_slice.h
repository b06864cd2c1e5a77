// NodeSlice (after elr_mpl): a tree of fixed-size pools with handle
// validation. Each pool hands out slices of one size, carved from large
// nodes (one arena segment of SegmentType::kManualNodeSlice each). Freed
// slices go to the head of the pool's available list (LIFO); fresh slices
// are carved by bumping through the newest node.
//
// Pools form a tree under a root pool owned by a NodeSliceTree. Destroying
// a pool destroys its descendants first (depth first) and returns all their
// nodes to the arena. Pools are named by NodeSliceHandle values, which carry
// an identity tag: a handle to a destroyed pool, or to a destroyed and reused
// pool descriptor, is detected (valid() is false, Alloc returns kParam).
//
// Every slice starts with a 16-byte header (owning descriptor, pool tag,
// state magic), so Free needs no size, the size of a block is found from its
// pointer, and double frees, frees of slices of destroyed pools and frees of
// pointers that are not slices are reported as kParam. See NODE_SLICE.md for
// what is and is not detected.
#ifndef CORE_POOLS_NODE_SLICE_H_
#define CORE_POOLS_NODE_SLICE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <ostream>
#include <shared_mutex>
#include <vector>

#include "core/base/free_stack.h"
#include "core/pool/pool.h"

namespace core {

class NodeSlicePool;
class NodeSliceTree;
struct NodeSliceDescriptor;

struct NodeSliceOptions {
  // Bytes usable in each slice; at least 1, rounded up to 16.
  std::size_t slice_size = 0;
  // Bytes per node (rounded up to arena grains), raised if needed so a node
  // holds at least min_slices_per_node slices.
  std::size_t node_size = std::size_t{64} << 10;
  std::size_t min_slices_per_node = 1;
  // Alloc and free take a per-pool mutex.
  bool thread_safe = false;
};

// A pool's name: the descriptor it lives in and the identity tag it had when
// created. Copyable, comparable; valid only while its tree lives.
struct NodeSliceHandle {
  NodeSliceDescriptor* desc = nullptr;
  std::uint32_t tag = 0;

  // True while the pool named by this handle exists. Always safe to call
  // while the tree lives, even after the pool is destroyed.
  bool valid() const;
  friend bool operator==(NodeSliceHandle a, NodeSliceHandle b) = default;
};

// The header before every slice's payload.
struct NodeSliceHeader {
  NodeSliceDescriptor* desc;  // The owning pool's descriptor.
  std::uint32_t tag;          // The owning pool's tag.
  std::uint32_t magic;        // kLiveMagic or kFreeMagic.
};
static_assert(sizeof(NodeSliceHeader) == 16);

class NodeSlicePool final : public Pool {
 public:
  static constexpr std::size_t kAlign = 16;
  static constexpr std::size_t kHeaderSize = sizeof(NodeSliceHeader);
  static constexpr std::size_t kNodeHeaderSize = 16;
  static constexpr std::uint32_t kLiveMagic = 0x51CEA11Cu;
  static constexpr std::uint32_t kFreeMagic = 0x51CEF4EEu;

  ~NodeSlicePool() override;

  const char* class_name() const override { return "NodeSlice"; }

  // The fast path: pop the available list (under the pool mutex if
  // thread-safe). The root pool holds only descriptors: kParam.
  Res AllocSlice(void** p) {
    if (thread_safe_) {
      std::lock_guard<std::mutex> lock(PoolMutex());
      return AllocLocked(p);
    }
    return AllocLocked(p);
  }
  // Frees a slice of this pool: header check and push. kParam if `p` is not
  // a live slice of this pool. `p` must be null or point into readable
  // memory (any pointer a NodeSlice pool of a live node returned is);
  // NodeSliceTree::Free also validates the address against the arena.
  Res FreeSlice(void* p) {
    if (thread_safe_) {
      std::lock_guard<std::mutex> lock(PoolMutex());
      return FreeLocked(p);
    }
    return FreeLocked(p);
  }

  Res Alloc(std::size_t size, void** p) override {
    if (size == 0 || size > slice_size_) return Res::kParam;
    return AllocSlice(p);
  }
  // `size` is checked against the slice size only; the header names the pool.
  Res Free(void* p, std::size_t size) override {
    if (size > slice_size_) return Res::kParam;
    return FreeSlice(p);
  }

  // Bytes held from the arena; of them, those in available slices, uncarved
  // slices and node tails (everything but live slices and node headers).
  std::size_t TotalSize() const override { return total_; }
  std::size_t FreeSize() const override;

  // Runs in address order: node headers and live slices (header included)
  // are allocated; available and uncarved slices and node tails are free.
  void WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const override;
  CheckResult Check() const override;
  void Describe(std::ostream& os) const override;

  std::size_t slice_size() const { return slice_size_; }
  std::size_t stride() const { return stride_; }
  std::size_t node_size() const { return node_size_; }
  std::size_t node_count() const { return node_count_; }
  std::size_t live_slices() const { return carved_ - available_.count(); }
  std::size_t available_slices() const { return available_.count(); }
  bool thread_safe() const { return thread_safe_; }
  bool is_root() const { return parent_ == nullptr; }
  NodeSliceTree* tree() const { return tree_; }
  NodeSlicePool* parent() const { return parent_; }
  NodeSliceHandle handle() const { return {desc_, tag_}; }
  std::size_t child_count() const { return child_count_; }
  // Visits the children, newest first.
  template <typename Visitor>
  void ForEachChild(Visitor&& visit) const {
    for (const NodeSlicePool* c = first_child_; c != nullptr; c = c->next_sibling_) visit(c);
  }

  // The header of the slice whose payload is `p` (no validation).
  static NodeSliceHeader* HeaderOf(void* p) {
    return static_cast<NodeSliceHeader*>(ToPointer(ToAddr(p) - kHeaderSize));
  }

 private:
  friend class NodeSliceTree;
  struct NodeHeader {
    NodeHeader* next;  // The next older node.
    std::size_t size;  // The node's bytes (the arena segment).
  };
  static_assert(sizeof(NodeHeader) == kNodeHeaderSize);

  NodeSlicePool(NodeSliceTree* tree, NodeSliceDescriptor* desc, std::uint32_t tag,
                NodeSlicePool* parent, std::size_t slice_size, std::size_t node_size,
                bool thread_safe);

  std::mutex& PoolMutex() const;

  Res AllocLocked(void** p) {
    if (is_root()) [[unlikely]]
      return Res::kParam;
    return AllocUnchecked(p);
  }
  Res AllocUnchecked(void** p) {
    if (void* slice = available_.Pop()) [[likely]] {
      HeaderOf(slice)->magic = kLiveMagic;
      *p = slice;
      return Res::kOk;
    }
    return AllocSlow(p);
  }
  Res FreeLocked(void* p) {
    if (p == nullptr || !IsAligned(ToAddr(p), kAlign)) [[unlikely]]
      return Res::kParam;
    NodeSliceHeader* h = HeaderOf(p);
    if (h->desc != desc_ || h->tag != tag_ || h->magic != kLiveMagic) [[unlikely]] {
      return Res::kParam;
    }
    h->magic = kFreeMagic;
    available_.Push(p);
    return Res::kOk;
  }
  // Carves a slice from the newest node, acquiring a node if needed.
  Res AllocSlow(void** p);
  // True if `slice` (a header address) is a carved slice of one of our nodes.
  bool IsCarvedSlice(Addr slice) const;
  std::size_t CarvedIn(const NodeHeader* node) const;

  NodeSliceTree* const tree_;
  NodeSliceDescriptor* const desc_;
  const std::uint32_t tag_;
  const std::size_t slice_size_;
  const std::size_t stride_;
  const std::size_t node_size_;
  const bool thread_safe_;

  FreeStack available_;          // Payload pointers of freed slices, newest first.
  NodeHeader* nodes_ = nullptr;  // Newest first.
  Addr bump_ = 0;                // Next uncarved slice (header) of the newest node.
  Addr limit_ = 0;               // End of the newest node.
  std::size_t node_count_ = 0;
  std::size_t total_ = 0;
  std::size_t carved_ = 0;

  NodeSlicePool* parent_;
  NodeSlicePool* first_child_ = nullptr;
  NodeSlicePool* next_sibling_ = nullptr;
  NodeSlicePool* prev_sibling_ = nullptr;
  std::size_t child_count_ = 0;
};

// Where a pool lives: never freed while its tree lives, so a stale handle's
// tag can always be read. The tag is odd while a pool lives in it, and is
// bumped when the pool is created and when it is destroyed.
struct NodeSliceDescriptor {
  std::atomic<std::uint32_t> tag{0};
  std::atomic<bool> thread_safe{false};
  std::mutex mutex;                          // The pool mutex (thread-safe pools).
  NodeSlicePool* pool = nullptr;             // Into `storage` while live.
  NodeSliceDescriptor* next_free = nullptr;  // The tree's free descriptors.
  alignas(NodeSlicePool) unsigned char storage[sizeof(NodeSlicePool)];
};

inline bool NodeSliceHandle::valid() const {
  return desc != nullptr && (tag & 1) != 0 && desc->tag.load(std::memory_order_acquire) == tag;
}

inline std::mutex& NodeSlicePool::PoolMutex() const { return desc_->mutex; }

class NodeSliceTree {
 public:
  // Descriptors are slices of the root pool, whose nodes are this size.
  explicit NodeSliceTree(Arena* arena, std::size_t root_node_size = std::size_t{64} << 10);
  // Destroys every pool and returns all nodes to the arena.
  ~NodeSliceTree();
  NodeSliceTree(const NodeSliceTree&) = delete;
  NodeSliceTree& operator=(const NodeSliceTree&) = delete;

  // The root pool: a parent for top-level pools. It cannot be destroyed or
  // allocated from.
  NodeSliceHandle root() const { return root_->handle(); }

  // Creates a pool under `parent` (root() for a top-level pool). kParam for
  // a stale parent or bad options; kCommitLimit / kResource if no node for a
  // new descriptor can be had. No node is acquired for the pool itself until
  // its first allocation.
  Res Create(NodeSliceHandle parent, const NodeSliceOptions& options, NodeSliceHandle* pool);
  // Destroys the pool and its descendants, depth first, returning their
  // nodes to the arena. kParam for a stale handle or the root.
  Res Destroy(NodeSliceHandle pool);

  // Allocates a slice from the pool `pool` names. kParam if the handle is
  // stale (nothing is touched but the descriptor) or names the root.
  Res Alloc(NodeSliceHandle pool, void** p) {
    NodeSliceDescriptor* d = pool.desc;
    if (d == nullptr) [[unlikely]]
      return Res::kParam;
    const bool locked = d->thread_safe.load(std::memory_order_acquire);
    if (d->tag.load(std::memory_order_acquire) != pool.tag || (pool.tag & 1) == 0) [[unlikely]] {
      return Res::kParam;
    }
    if (locked) return AllocLockedSlow(pool, p);
    return d->pool->AllocLocked(p);
  }
  // Frees a slice, finding its pool from the pointer. The address is checked
  // against the arena before the header is read, so any pointer is safe:
  // kParam if it is not a live slice of a pool of this tree.
  Res Free(void* p);
  // The slice size of the pool owning live slice `p`; kParam as for Free.
  Res SizeOf(void* p, std::size_t* size) const;
  // The pool owning live slice `p`, or nullptr.
  NodeSlicePool* PoolOf(void* p) const;

  // The pool a handle names, or nullptr if the handle is stale.
  NodeSlicePool* Get(NodeSliceHandle pool) const {
    return pool.valid() ? pool.desc->pool : nullptr;
  }

  Arena* arena() const { return arena_; }
  // Pools other than the root.
  std::size_t pool_count() const;

  // Checks every pool, the links between them, and the descriptor store.
  CheckResult Check() const;
  // The tree, one pool per line, children indented under their parent.
  void Describe(std::ostream& os) const;

 private:
  Res AllocLockedSlow(NodeSliceHandle pool, void** p);
  // The pool owning live slice `p` (caller holds mutex_ at least shared).
  NodeSlicePool* FindLiveSlice(void* p) const;
  Res NewDescriptor(NodeSliceDescriptor** desc);
  // Destroys one pool that has no children (caller holds mutex_).
  void DestroyLeaf(NodeSlicePool* pool);

  Arena* const arena_;
  // Exclusive for structural changes, shared for Free(p) and SizeOf, so a
  // pool cannot vanish while its slice header is being read.
  mutable std::shared_mutex mutex_;
  NodeSliceDescriptor root_desc_;
  NodeSlicePool* root_;
  NodeSliceDescriptor* free_descs_ = nullptr;
  std::size_t free_desc_count_ = 0;
  std::size_t pool_count_ = 0;
  std::vector<NodeSlicePool*> by_id_;  // Our pools (not the root), by arena pool id.
};

}  // namespace core

#endif  // CORE_POOLS_NODE_SLICE_H_
