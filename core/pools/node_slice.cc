#include "core/pools/node_slice.h"

#include <algorithm>
#include <mutex>
#include <unordered_set>
#include <vector>

namespace core {

namespace {

// Payload bytes rounded up to the slice alignment; false on overflow.
bool RoundSliceSize(std::size_t size, std::size_t* out) {
  return SizeAlignUp(std::max<std::size_t>(size, 1), NodeSlicePool::kAlign, out);
}

// Node bytes for `stride`-byte slices: at least `node_size` and enough for
// `min_slices`; false on overflow.
bool NodeBytes(std::size_t node_size, std::size_t stride, std::size_t min_slices,
               std::size_t* out) {
  min_slices = std::max<std::size_t>(min_slices, 1);
  if (min_slices > (SIZE_MAX - NodeSlicePool::kNodeHeaderSize) / stride) return false;
  *out = std::max(node_size, NodeSlicePool::kNodeHeaderSize + min_slices * stride);
  return true;
}

}  // namespace

// ---------------------------------------------------------------- the pool

NodeSlicePool::NodeSlicePool(NodeSliceTree* tree, NodeSliceDescriptor* desc, std::uint32_t tag,
                             NodeSlicePool* parent, std::size_t slice_size, std::size_t node_size,
                             bool thread_safe)
    : Pool(tree->arena()),
      tree_(tree),
      desc_(desc),
      tag_(tag),
      slice_size_(slice_size),
      stride_(slice_size + kHeaderSize),
      node_size_(node_size),
      thread_safe_(thread_safe),
      parent_(parent) {}

NodeSlicePool::~NodeSlicePool() {
  // Return every node; Pool::~Pool then unregisters with nothing left.
  for (NodeHeader* node = nodes_; node != nullptr;) {
    NodeHeader* next = node->next;
    const Range range{ToAddr(node), ToAddr(node) + node->size};
    Res res = ReleaseSegment(range);
    (void)res;  // A node is a whole segment of ours.
    node = next;
  }
}

Res NodeSlicePool::AllocSlow(void** p) {
  if (limit_ - bump_ < stride_) {
    Range node;
    Res res = AcquireSegment(node_size_, SegmentType::kManualNodeSlice, /*high=*/false, &node);
    if (res != Res::kOk) return res;
    // The tail of the old node that cannot hold a slice is simply wasted.
    auto* header = static_cast<NodeHeader*>(ToPointer(node.base));
    header->next = nodes_;
    header->size = node.size();
    nodes_ = header;
    ++node_count_;
    total_ += node.size();
    bump_ = node.base + kNodeHeaderSize;
    limit_ = node.limit;
  }
  auto* h = static_cast<NodeSliceHeader*>(ToPointer(bump_));
  h->desc = desc_;
  h->tag = tag_;
  h->magic = kLiveMagic;
  bump_ += stride_;
  ++carved_;
  *p = ToPointer(ToAddr(h) + kHeaderSize);
  return Res::kOk;
}

std::size_t NodeSlicePool::CarvedIn(const NodeHeader* node) const {
  const Addr first = ToAddr(node) + kNodeHeaderSize;
  const Addr end = node == nodes_ ? bump_ : ToAddr(node) + node->size;
  return end < first ? 0 : (end - first) / stride_;
}

bool NodeSlicePool::IsCarvedSlice(Addr slice) const {
  for (const NodeHeader* node = nodes_; node != nullptr; node = node->next) {
    const Addr first = ToAddr(node) + kNodeHeaderSize;
    if (slice < first || slice >= ToAddr(node) + node->size) continue;
    if ((slice - first) % stride_ != 0) return false;
    return (slice - first) / stride_ < CarvedIn(node);
  }
  return false;
}

std::size_t NodeSlicePool::FreeSize() const {
  return total_ - live_slices() * stride_ - node_count_ * kNodeHeaderSize;
}

void NodeSlicePool::WalkBlocks(FunctionRef<bool(Range run, bool allocated)> visit) const {
  std::vector<const NodeHeader*> nodes;
  for (const NodeHeader* n = nodes_; n != nullptr; n = n->next) nodes.push_back(n);
  std::sort(nodes.begin(), nodes.end());
  for (const NodeHeader* node : nodes) {
    const Addr base = ToAddr(node);
    if (!visit({base, base + kNodeHeaderSize}, true)) return;
    const std::size_t carved = CarvedIn(node);
    Addr at = base + kNodeHeaderSize;
    for (std::size_t i = 0; i < carved; ++i, at += stride_) {
      const auto* h = static_cast<const NodeSliceHeader*>(ToPointer(at));
      if (!visit({at, at + stride_}, h->magic == kLiveMagic)) return;
    }
    const Addr limit = base + node->size;
    if (at < limit && !visit({at, limit}, false)) return;
  }
}

CheckResult NodeSlicePool::Check() const {
  std::unique_lock<std::mutex> lock(PoolMutex(), std::defer_lock);
  if (thread_safe_) lock.lock();
  CORE_CHECK(IsAligned(slice_size_, kAlign) && slice_size_ >= kAlign);
  CORE_CHECK(stride_ == slice_size_ + kHeaderSize);
  CORE_CHECK(node_size_ >= kNodeHeaderSize + stride_);
  CORE_CHECK(desc_ != nullptr && desc_->pool == this);
  CORE_CHECK_MSG(desc_->tag.load() == tag_ && (tag_ & 1) != 0, "descriptor tag disagrees");
  CORE_CHECK(desc_->thread_safe.load() == thread_safe_);
  CORE_CHECK(bump_ <= limit_);
  CORE_CHECK(available_.count() <= carved_);
  CORE_CHECK(!is_root() || available_.count() == 0);

  // Nodes: whole segments of ours, and all of our segments.
  std::size_t nodes = 0, bytes = 0, carved = 0;
  for (const NodeHeader* node = nodes_; node != nullptr; node = node->next) {
    ++nodes;
    bytes += node->size;
    CORE_CHECK_MSG(nodes <= node_count_, "node list longer than node count");
    CORE_CHECK(node->size >= node_size_ && IsAligned(node->size, arena()->grain_size()));
    Segment segment;
    CORE_CHECK(arena()->SegmentOf(ToAddr(node), &segment));
    const Range node_range{ToAddr(node), ToAddr(node) + node->size};
    CORE_CHECK_MSG(segment.pool == this && segment.type == SegmentType::kManualNodeSlice &&
                       segment.range == node_range,
                   "node is not a NodeSlice segment of this pool");
    carved += CarvedIn(node);
    // Every carved slice carries our header, live or free.
    std::size_t slice_count = CarvedIn(node);
    Addr at = ToAddr(node) + kNodeHeaderSize;
    for (std::size_t i = 0; i < slice_count; ++i, at += stride_) {
      const auto* h = static_cast<const NodeSliceHeader*>(ToPointer(at));
      CORE_CHECK_MSG(
          h->desc == desc_ && h->tag == tag_ && (h->magic == kLiveMagic || h->magic == kFreeMagic),
          "slice header does not name this pool");
    }
  }
  CORE_CHECK(nodes == node_count_);
  CORE_CHECK(bytes == total_);
  CORE_CHECK(carved == carved_);
  CORE_CHECK(nodes_ == nullptr ||
             (limit_ == ToAddr(nodes_) + nodes_->size && bump_ >= ToAddr(nodes_)));
  CORE_CHECK(arena()->PoolBytes(id()) == total_);

  // Available list: carved free slices of ours, each once; the rest live.
  std::unordered_set<Addr> seen;
  bool ok = true;
  available_.ForEach([&](const void* payload) {
    if (!ok) return;
    const Addr slice = ToAddr(payload) - kHeaderSize;
    const auto* h = static_cast<const NodeSliceHeader*>(ToPointer(slice));
    ok = IsCarvedSlice(slice) && seen.insert(slice).second && h->magic == kFreeMagic;
  });
  CORE_CHECK_MSG(ok, "available entry is a free carved slice of this pool, listed once");
  std::size_t free_headers = 0;
  for (const NodeHeader* node = nodes_; node != nullptr; node = node->next) {
    Addr at = ToAddr(node) + kNodeHeaderSize;
    for (std::size_t i = CarvedIn(node); i > 0; --i, at += stride_) {
      if (static_cast<const NodeSliceHeader*>(ToPointer(at))->magic == kFreeMagic) {
        ++free_headers;
      }
    }
  }
  CORE_CHECK_MSG(free_headers == available_.count(), "free slices not on the available list");

  // Children point back at us, and the sibling links agree.
  std::size_t children = 0;
  const NodeSlicePool* prev = nullptr;
  for (const NodeSlicePool* c = first_child_; c != nullptr; c = c->next_sibling_) {
    ++children;
    CORE_CHECK_MSG(children <= child_count_, "child list longer than child count");
    CORE_CHECK(c->parent_ == this);
    CORE_CHECK(c->prev_sibling_ == prev);
    CORE_CHECK(c->tree_ == tree_);
    prev = c;
  }
  CORE_CHECK(children == child_count_);
  return CheckResult::Ok();
}

void NodeSlicePool::Describe(std::ostream& os) const {
  os << "NodeSlice pool " << id() << (is_root() ? " (root)" : "") << ": slice " << slice_size_
     << " (stride " << stride_ << "), node " << node_size_ << ", nodes " << node_count_
     << ", total " << total_ << ", free " << FreeSize() << ", live " << live_slices()
     << ", available " << available_.count() << ", children " << child_count_ << ", tag " << tag_
     << (thread_safe_ ? ", thread-safe" : "") << "\n";
}

// ---------------------------------------------------------------- the tree

NodeSliceTree::NodeSliceTree(Arena* arena, std::size_t root_node_size) : arena_(arena) {
  std::size_t slice = 0, node = 0;
  bool ok = RoundSliceSize(sizeof(NodeSliceDescriptor), &slice) &&
            NodeBytes(root_node_size, slice + NodeSlicePool::kHeaderSize, 1, &node);
  (void)ok;  // A descriptor is small.
  root_desc_.tag.store(1);
  root_ = new (root_desc_.storage)
      NodeSlicePool(this, &root_desc_, 1, /*parent=*/nullptr, slice, node, /*thread_safe=*/false);
  root_desc_.pool = root_;
}

NodeSliceTree::~NodeSliceTree() {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  while (root_->first_child_ != nullptr) {
    NodeSlicePool* leaf = root_->first_child_;
    while (leaf->first_child_ != nullptr) leaf = leaf->first_child_;
    DestroyLeaf(leaf);
  }
  // Every carved root slice is a descriptor, now free.
  for (NodeSlicePool::NodeHeader* node = root_->nodes_; node != nullptr; node = node->next) {
    Addr at = ToAddr(node) + NodeSlicePool::kNodeHeaderSize;
    for (std::size_t i = root_->CarvedIn(node); i > 0; --i, at += root_->stride_) {
      static_cast<NodeSliceDescriptor*>(ToPointer(at + NodeSlicePool::kHeaderSize))
          ->~NodeSliceDescriptor();
    }
  }
  root_->~NodeSlicePool();
  root_desc_.pool = nullptr;
}

std::size_t NodeSliceTree::pool_count() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return pool_count_;
}

Res NodeSliceTree::NewDescriptor(NodeSliceDescriptor** desc) {
  if (free_descs_ != nullptr) {
    *desc = free_descs_;
    free_descs_ = free_descs_->next_free;
    (*desc)->next_free = nullptr;
    --free_desc_count_;
    return Res::kOk;
  }
  void* slice;
  Res res = root_->AllocUnchecked(&slice);
  if (res != Res::kOk) return res;
  *desc = new (slice) NodeSliceDescriptor();
  return Res::kOk;
}

Res NodeSliceTree::Create(NodeSliceHandle parent, const NodeSliceOptions& options,
                          NodeSliceHandle* pool) {
  std::size_t slice = 0, node = 0;
  if (options.slice_size == 0 || !RoundSliceSize(options.slice_size, &slice) ||
      slice > SIZE_MAX - NodeSlicePool::kHeaderSize ||
      !NodeBytes(options.node_size, slice + NodeSlicePool::kHeaderSize, options.min_slices_per_node,
                 &node)) {
    return Res::kParam;
  }
  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (!parent.valid()) return Res::kParam;
  NodeSlicePool* parent_pool = parent.desc->pool;
  if (parent_pool->tree_ != this) return Res::kParam;
  NodeSliceDescriptor* desc;
  Res res = NewDescriptor(&desc);
  if (res != Res::kOk) return res;
  const std::uint32_t tag = desc->tag.load() + 1;  // Odd: live.
  auto* p = new (desc->storage)
      NodeSlicePool(this, desc, tag, parent_pool, slice, node, options.thread_safe);
  desc->pool = p;
  if (by_id_.size() <= p->id()) by_id_.resize(p->id() + 1, nullptr);
  by_id_[p->id()] = p;
  desc->thread_safe.store(options.thread_safe, std::memory_order_release);
  desc->tag.store(tag, std::memory_order_release);
  p->next_sibling_ = parent_pool->first_child_;
  if (p->next_sibling_ != nullptr) p->next_sibling_->prev_sibling_ = p;
  parent_pool->first_child_ = p;
  ++parent_pool->child_count_;
  ++pool_count_;
  *pool = p->handle();
  return Res::kOk;
}

void NodeSliceTree::DestroyLeaf(NodeSlicePool* pool) {
  NodeSliceDescriptor* desc = pool->desc_;
  {
    // Wait for operations in flight through a handle; later ones see the tag.
    std::unique_lock<std::mutex> pool_lock(desc->mutex, std::defer_lock);
    if (pool->thread_safe_) pool_lock.lock();
    desc->tag.store(pool->tag_ + 1, std::memory_order_release);  // Even: dead.
  }
  NodeSlicePool* parent = pool->parent_;
  if (pool->prev_sibling_ != nullptr) {
    pool->prev_sibling_->next_sibling_ = pool->next_sibling_;
  } else {
    parent->first_child_ = pool->next_sibling_;
  }
  if (pool->next_sibling_ != nullptr) pool->next_sibling_->prev_sibling_ = pool->prev_sibling_;
  --parent->child_count_;
  --pool_count_;
  by_id_[pool->id()] = nullptr;
  pool->~NodeSlicePool();
  desc->pool = nullptr;
  desc->next_free = free_descs_;
  free_descs_ = desc;
  ++free_desc_count_;
}

Res NodeSliceTree::Destroy(NodeSliceHandle pool) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (!pool.valid()) return Res::kParam;
  NodeSlicePool* top = pool.desc->pool;
  if (top->tree_ != this || top->is_root()) return Res::kParam;
  // Depth first, without recursion: destroy the deepest first child until
  // the top pool is a leaf.
  while (top->first_child_ != nullptr) {
    NodeSlicePool* leaf = top->first_child_;
    while (leaf->first_child_ != nullptr) leaf = leaf->first_child_;
    DestroyLeaf(leaf);
  }
  DestroyLeaf(top);
  return Res::kOk;
}

Res NodeSliceTree::AllocLockedSlow(NodeSliceHandle pool, void** p) {
  NodeSliceDescriptor* d = pool.desc;
  std::lock_guard<std::mutex> lock(d->mutex);
  // The pool may have been destroyed while we waited.
  if (d->tag.load(std::memory_order_acquire) != pool.tag) return Res::kParam;
  return d->pool->AllocLocked(p);
}

NodeSlicePool* NodeSliceTree::FindLiveSlice(void* p) const {
  if (p == nullptr || !IsAligned(ToAddr(p), NodeSlicePool::kAlign)) return nullptr;
  const Addr slice = ToAddr(p) - NodeSlicePool::kHeaderSize;
  // Only memory the arena says is a node of one of our pools is read; the
  // owner is found by pool id, so no foreign pool object is touched.
  GrainInfo info;
  if (!arena_->Lookup(slice, &info) || (info.flags & kGrainAllocated) == 0 ||
      info.type != SegmentType::kManualNodeSlice || info.pool_id >= by_id_.size() ||
      by_id_[info.pool_id] == nullptr) {
    return nullptr;
  }
  NodeSlicePool* pool = by_id_[info.pool_id];
  Segment segment;
  if (!arena_->SegmentOf(slice, &segment) || segment.pool != pool) return nullptr;
  const Addr first = segment.range.base + NodeSlicePool::kNodeHeaderSize;
  if (slice < first || (slice - first) % pool->stride_ != 0 ||
      slice + pool->stride_ > segment.range.limit) {
    return nullptr;
  }
  return pool;
}

Res NodeSliceTree::Free(void* p) {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  NodeSlicePool* pool = FindLiveSlice(p);
  if (pool == nullptr) return Res::kParam;
  // The pool cannot be destroyed while we hold the tree lock; the header
  // check (under the pool mutex if thread-safe) catches double frees and
  // uncarved slices (which hold no header of this pool).
  return pool->FreeSlice(p);
}

Res NodeSliceTree::SizeOf(void* p, std::size_t* size) const {
  NodeSlicePool* pool = PoolOf(p);
  if (pool == nullptr) return Res::kParam;
  *size = pool->slice_size();
  return Res::kOk;
}

NodeSlicePool* NodeSliceTree::PoolOf(void* p) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  NodeSlicePool* pool = FindLiveSlice(p);
  if (pool == nullptr) return nullptr;
  std::unique_lock<std::mutex> pool_lock(pool->PoolMutex(), std::defer_lock);
  if (pool->thread_safe_) pool_lock.lock();
  const NodeSliceHeader* h = NodeSlicePool::HeaderOf(p);
  if (h->desc != pool->desc_ || h->tag != pool->tag_ || h->magic != NodeSlicePool::kLiveMagic) {
    return nullptr;
  }
  return pool;
}

CheckResult NodeSliceTree::Check() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  CORE_CHECK(root_ != nullptr && root_->is_root() && root_desc_.pool == root_);
  CORE_CHECK(root_->tree_ == this);
  // Depth first over every pool, checking each and counting.
  std::size_t pools = 0;
  std::vector<const NodeSlicePool*> stack{root_};
  while (!stack.empty()) {
    const NodeSlicePool* pool = stack.back();
    stack.pop_back();
    CORE_CHECK_NESTED(pool->Check());
    if (pool != root_) {
      ++pools;
      CORE_CHECK_MSG(pools <= pool_count_, "more pools in the tree than counted");
      CORE_CHECK(pool->parent_ != nullptr);
      // Descriptors of live pools are carved root slices.
      CORE_CHECK(root_->IsCarvedSlice(ToAddr(pool->desc_) - NodeSlicePool::kHeaderSize));
    }
    pool->ForEachChild([&stack](const NodeSlicePool* c) { stack.push_back(c); });
  }
  CORE_CHECK(pools == pool_count_);
  std::size_t by_id = 0;
  for (std::size_t i = 0; i < by_id_.size(); ++i) {
    if (by_id_[i] == nullptr) continue;
    ++by_id;
    CORE_CHECK(by_id_[i]->id() == i && by_id_[i]->desc_->pool == by_id_[i]);
  }
  CORE_CHECK_MSG(by_id == pool_count_, "pool id table disagrees with the pool count");
  // Descriptor store: every carved root slice is a descriptor, live or free.
  std::size_t free_descs = 0;
  for (const NodeSliceDescriptor* d = free_descs_; d != nullptr; d = d->next_free) {
    ++free_descs;
    CORE_CHECK_MSG(free_descs <= free_desc_count_, "free descriptor list too long");
    CORE_CHECK(d->pool == nullptr && (d->tag.load() & 1) == 0);
    CORE_CHECK(root_->IsCarvedSlice(ToAddr(d) - NodeSlicePool::kHeaderSize));
  }
  CORE_CHECK(free_descs == free_desc_count_);
  CORE_CHECK(root_->live_slices() == pool_count_ + free_desc_count_);
  return CheckResult::Ok();
}

void NodeSliceTree::Describe(std::ostream& os) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  os << "NodeSlice tree: " << pool_count_ << " pools, " << free_desc_count_
     << " free descriptors\n";
  std::vector<std::pair<const NodeSlicePool*, int>> stack{{root_, 0}};
  while (!stack.empty()) {
    auto [pool, depth] = stack.back();
    stack.pop_back();
    os << std::string(2 * depth + 2, ' ');
    pool->Describe(os);
    pool->ForEachChild([&, d = depth](const NodeSlicePool* c) { stack.push_back({c, d + 1}); });
  }
}

}  // namespace core
