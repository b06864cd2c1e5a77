#include "core/land/cbs.h"

#include <algorithm>
#include <vector>

namespace core {
namespace {

using Node = Cbs::Node;

constexpr int kLeft = Cbs::kLeft;
constexpr int kRight = Cbs::kRight;

std::size_t SizeOf(const Node* n) { return n->limit - n->base; }
// The largest block and the height of the subtree rooted at `n`.
inline std::size_t SubtreeMax(const Node* n) {
  if (n == nullptr) return 0;
  return std::max(SizeOf(n), std::max(n->child_max[kLeft], n->child_max[kRight]));
}
inline int SubtreeHeight(const Node* n) {
  if (n == nullptr) return 0;
  return 1 + std::max(n->child_height[kLeft], n->child_height[kRight]);
}

// Recomputes what `n` caches about its child on `side`.
void Refresh(Node* n, int side) {
  n->child_max[side] = SubtreeMax(n->child[side]);
  n->child_height[side] = static_cast<std::int8_t>(SubtreeHeight(n->child[side]));
}

// Rotates the subtree at `n` so that its child on `side` becomes its root.
Node* Rotate(Node* n, int side) {
  const int other = 1 - side;
  Node* c = n->child[side];
  n->child[side] = c->child[other];
  c->child[other] = n;
  Refresh(n, side);
  Refresh(c, other);
  return c;
}

// Restores the AVL balance of `n`, whose cached child facts are current and
// whose children are balanced with heights differing by at most 2.
Node* Rebalance(Node* n) {
  const int balance = n->child_height[kLeft] - n->child_height[kRight];
  if (balance >= -1 && balance <= 1) return n;
  const int heavy = balance > 1 ? kLeft : kRight;
  const int light = 1 - heavy;
  Node* c = n->child[heavy];
  if (c->child_height[heavy] < c->child_height[light]) n->child[heavy] = Rotate(c, light);
  return Rotate(n, heavy);
}

// The block with the greatest base <= addr, or nullptr.
const Node* FloorNode(const Node* n, Addr addr) {
  const Node* floor = nullptr;
  while (n != nullptr) {
    if (n->base <= addr) {
      floor = n;
      n = n->child[kRight];
    } else {
      n = n->child[kLeft];
    }
  }
  return floor;
}

Range BlockOf(const Node* n) { return {n->base, n->limit}; }

struct SubtreeFacts {
  int height = 0;
  std::size_t max_size = 0;
  std::size_t total = 0;
  std::size_t count = 0;
};

CheckResult CheckSubtree(const Node* n, Addr low, Addr high, SubtreeFacts* facts) {
  if (n == nullptr) return CheckResult::Ok();
  CORE_CHECK(n->base < n->limit);
  CORE_CHECK(low <= n->base && n->limit <= high);
  SubtreeFacts left, right;
  // Strict bounds keep blocks apart: adjacent blocks would have coalesced.
  CORE_CHECK(n->child[kLeft] == nullptr || n->base > 0);
  CORE_CHECK(n->child[kRight] == nullptr || n->limit < ~Addr{0});
  CORE_CHECK_NESTED(CheckSubtree(n->child[kLeft], low, n->base - 1, &left));
  CORE_CHECK_NESTED(CheckSubtree(n->child[kRight], n->limit + 1, high, &right));
  CORE_CHECK(n->child_height[kLeft] == left.height && n->child_height[kRight] == right.height);
  CORE_CHECK(left.height - right.height <= 1 && right.height - left.height <= 1);
  CORE_CHECK(n->child_max[kLeft] == left.max_size && n->child_max[kRight] == right.max_size);
  facts->height = 1 + std::max(left.height, right.height);
  facts->max_size = std::max({SizeOf(n), left.max_size, right.max_size});
  facts->total = left.total + right.total + SizeOf(n);
  facts->count = left.count + right.count + 1;
  return CheckResult::Ok();
}

}  // namespace

Cbs::Cbs(FixedAllocator* nodes) : nodes_(nodes) {}

Cbs::~Cbs() { FreeSubtree(root_); }

void Cbs::Clear() {
  FreeSubtree(root_);
  root_ = nullptr;
  total_size_ = 0;
  count_ = 0;
}

void Cbs::FreeSubtree(Node* node) {
  if (node == nullptr) return;
  FreeSubtree(node->child[kLeft]);
  FreeSubtree(node->child[kRight]);
  nodes_->FreeUnit(node);
}

// The nodes visited by one descent from the root, so that a node changed in
// place can have the augmented sizes above it fixed without a second search.
struct Cbs::Path {
  Node* nodes[kMaxDepth];
  int depth = 0;
  void Push(Node* n) { nodes[depth++] = n; }
};

namespace {

// Which side of `parent` holds `child`.
int SideOf(const Node* parent, const Node* child) {
  return parent->child[kLeft] == child ? kLeft : kRight;
}

}  // namespace

void Cbs::FixMaxUpward(const Path& path, int index) {
  for (int i = index; i > 0; --i) {
    const Node* child = path.nodes[i];
    Node* parent = path.nodes[i - 1];
    std::size_t& cached = parent->child_max[SideOf(parent, child)];
    const std::size_t m = SubtreeMax(child);
    if (cached == m) return;  // Nothing above changes.
    cached = m;
  }
}

void Cbs::LinkChild(const Path& path, int index, Node* old_child, Node* new_child) {
  if (index == 0) {
    root_ = new_child;
    return;
  }
  Node* parent = path.nodes[index - 1];
  parent->child[SideOf(parent, old_child)] = new_child;
}

void Cbs::Retrace(const Path& path, int index, int side, int stop_from) {
  // Once a subtree has its old height and maximum (a rotation after an
  // insertion restores both), nothing above it changes, so the walk stops:
  // usually within a few levels.
  for (int i = index; i >= 0; --i) {
    Node* n = path.nodes[i];
    const int old_height = SubtreeHeight(n);
    const std::size_t old_max = SubtreeMax(n);
    Refresh(n, side);
    Node* r = Rebalance(n);
    if (r != n) LinkChild(path, i, n, r);
    if (i <= stop_from && SubtreeHeight(r) == old_height && SubtreeMax(r) == old_max) return;
    if (i > 0) side = SideOf(path.nodes[i - 1], r);
  }
}

void Cbs::InsertAt(Path& path, Node* node) {
  ++count_;
  if (path.depth == 0) {
    root_ = node;
    return;
  }
  Node* parent = path.nodes[path.depth - 1];
  const int side = node->base < parent->base ? kLeft : kRight;
  parent->child[side] = node;
  Retrace(path, path.depth - 1, side, path.depth - 1);
}

void Cbs::InsertNew(Node* node) {
  Path path;
  for (Node* n = root_; n != nullptr; n = n->child[n->base <= node->base]) path.Push(n);
  InsertAt(path, node);
}

void Cbs::RemoveAt(Path& path, int index) {
  Node* n = path.nodes[index];
  path.depth = index + 1;
  if (n->child[kLeft] == nullptr || n->child[kRight] == nullptr) {
    const int side = index > 0 ? SideOf(path.nodes[index - 1], n) : kLeft;
    LinkChild(path, index, n, n->child[n->child[kLeft] == nullptr]);
    if (index > 0) Retrace(path, index - 1, side, index - 1);
  } else {
    // The in-order successor (leftmost of the right subtree) takes n's place.
    Node* successor = n->child[kRight];
    path.Push(successor);
    while (successor->child[kLeft] != nullptr) {
      successor = successor->child[kLeft];
      path.Push(successor);
    }
    const int successor_index = path.depth - 1;
    Node* successor_parent = path.nodes[successor_index - 1];
    const int side = successor_parent == n ? kRight : kLeft;
    successor_parent->child[side] = successor->child[kRight];
    // The successor stands where n stood, with n's cached facts; n's block is
    // gone from that subtree, so retrace at least up to there.
    Node moved = *n;
    moved.base = successor->base;
    moved.limit = successor->limit;
    *successor = moved;
    LinkChild(path, index, n, successor);
    path.nodes[index] = successor;
    Retrace(path, successor_index - 1, side, index - 1);
  }
  nodes_->FreeUnit(n);
  --count_;
}

Res Cbs::DeleteAt(Path& path, int index, Range part) {
  Node* node = path.nodes[index];
  const Range block = BlockOf(node);
  if (block == part) {
    RemoveAt(path, index);
  } else if (block.base == part.base) {
    node->base = part.limit;
    FixMaxUpward(path, index);
  } else if (block.limit == part.limit) {
    node->limit = part.base;
    FixMaxUpward(path, index);
  } else {
    // Splitting needs a second node; get it first so failure changes nothing.
    void* unit;
    if (nodes_->AllocUnit(&unit) != Res::kOk) return Res::kMemory;
    node->limit = part.base;
    FixMaxUpward(path, index);
    Node* high = static_cast<Node*>(unit);
    *high = Node{part.limit, block.limit, {0, 0}, {nullptr, nullptr}, {0, 0}};
    InsertNew(high);
  }
  total_size_ -= part.size();
  return Res::kOk;
}

Res Cbs::Insert(Range range, Range* coalesced) {
  if (range.empty()) return Res::kParam;
  // The blocks either side of a new range are both on its search path.
  // last[side] is where the descent last turned to `side`: turning right
  // passes a predecessor, turning left a successor.
  Path path;
  int last[2] = {-1, -1};
  for (Node* n = root_; n != nullptr;) {
    const int side = n->base < range.base ? kRight : kLeft;
    last[side] = path.depth;
    path.Push(n);
    n = n->child[side];
  }
  const int pred = last[kRight];
  const int succ = last[kLeft];
  Node* pred_node = pred >= 0 ? path.nodes[pred] : nullptr;
  Node* succ_node = succ >= 0 ? path.nodes[succ] : nullptr;
  if (pred_node != nullptr && pred_node->limit > range.base) return Res::kFail;
  if (succ_node != nullptr && succ_node->base < range.limit) return Res::kFail;
  const bool merge_left = pred_node != nullptr && pred_node->limit == range.base;
  const bool merge_right = succ_node != nullptr && succ_node->base == range.limit;

  Range block = range;
  if (merge_left && merge_right) {
    // Join three blocks into the predecessor, fixing sizes above it first,
    // then remove the successor's node (one of the two is an ancestor of
    // the other, so both are on this path).
    pred_node->limit = succ_node->limit;
    block = BlockOf(pred_node);
    FixMaxUpward(path, pred);
    RemoveAt(path, succ);
  } else if (merge_left) {
    pred_node->limit = range.limit;
    block = BlockOf(pred_node);
    FixMaxUpward(path, pred);
  } else if (merge_right) {
    succ_node->base = range.base;
    block = BlockOf(succ_node);
    FixMaxUpward(path, succ);
  } else {
    void* unit;
    if (nodes_->AllocUnit(&unit) != Res::kOk) return Res::kMemory;
    Node* node = static_cast<Node*>(unit);
    *node = Node{range.base, range.limit, {0, 0}, {nullptr, nullptr}, {0, 0}};
    InsertAt(path, node);
  }
  total_size_ += range.size();
  if (coalesced != nullptr) *coalesced = block;
  return Res::kOk;
}

Res Cbs::Delete(Range range, Range* old) {
  if (range.empty()) return Res::kParam;
  // Descend to the block with the greatest base <= range.base: the last
  // node from which the descent turned right.
  Path path;
  int last[2] = {-1, -1};
  for (Node* n = root_; n != nullptr;) {
    const int side = n->base <= range.base ? kRight : kLeft;
    last[side] = path.depth;
    path.Push(n);
    n = n->child[side];
  }
  const int floor = last[kRight];
  if (floor < 0 || path.nodes[floor]->limit < range.limit) return Res::kFail;
  const Range block = BlockOf(path.nodes[floor]);
  // The containing block is reported on kMemory too: Failover needs it.
  if (old != nullptr) *old = block;
  return DeleteAt(path, floor, range);
}

bool Cbs::FinishFind(Path& path, std::size_t size, FindDelete mode, Range* found, Range* old) {
  const int index = path.depth - 1;
  const Range block = BlockOf(path.nodes[index]);
  const Range part = FindDeletePart(block, size, mode);
  if (mode != FindDelete::kNone) {
    // Deleting at an end or the whole block never needs a node.
    Res res = DeleteAt(path, index, part);
    (void)res;
  }
  if (found != nullptr) *found = part;
  if (old != nullptr) *old = block;
  return true;
}

// First and last fit descend towards the `near` side (left for the lowest
// block, right for the highest) while that subtree has a large enough
// block, stopping at a node that fits when it does not.
bool Cbs::FindNear(int near, std::size_t size, FindDelete mode, Range* found, Range* old) {
  if (size == 0 || SubtreeMax(root_) < size) return false;
  const int far = 1 - near;
  Path path;
  for (Node* n = root_;;) {
    path.Push(n);
    const bool near_fits = n->child_max[near] >= size;
    if (!near_fits & (SizeOf(n) >= size)) return FinishFind(path, size, mode, found, old);
    n = n->child[near_fits ? near : far];
  }
}

bool Cbs::FindFirst(std::size_t size, FindDelete mode, Range* found, Range* old) {
  return FindNear(kLeft, size, mode, found, old);
}

bool Cbs::FindLast(std::size_t size, FindDelete mode, Range* found, Range* old) {
  return FindNear(kRight, size, mode, found, old);
}

bool Cbs::FindLargest(std::size_t size, FindDelete mode, Range* found, Range* old) {
  const std::size_t largest = SubtreeMax(root_);
  if (size == 0 || largest < size) return false;
  // Of several largest blocks, take the lowest-addressed one.
  Path path;
  for (Node* n = root_;;) {
    path.Push(n);
    const bool in_left = n->child_max[kLeft] == largest;
    if (!in_left & (SizeOf(n) == largest)) return FinishFind(path, size, mode, found, old);
    n = n->child[in_left ? kLeft : kRight];
  }
}

std::size_t Cbs::LargestSize() const { return SubtreeMax(root_); }

bool Cbs::FindContaining(Addr addr, Range* block) const {
  const Node* n = FloorNode(root_, addr);
  if (n == nullptr || n->limit <= addr) return false;
  *block = BlockOf(n);
  return true;
}

void Cbs::Iterate(FunctionRef<bool(Range)> visit) const {
  // In-order walk with an explicit stack; AVL height is < 1.45 log2(n + 2).
  const Node* stack[kMaxDepth];
  int depth = 0;
  const Node* n = root_;
  while (n != nullptr || depth > 0) {
    while (n != nullptr) {
      stack[depth++] = n;
      n = n->child[kLeft];
    }
    n = stack[--depth];
    if (!visit(BlockOf(n))) return;
    n = n->child[kRight];
  }
}

CheckResult Cbs::Check() const {
  CORE_CHECK(nodes_ != nullptr);
  CORE_CHECK(nodes_->unit_size() >= sizeof(Node));
  SubtreeFacts facts;
  CORE_CHECK_NESTED(CheckSubtree(root_, 0, ~Addr{0}, &facts));
  CORE_CHECK_MSG(facts.total == total_size_, "tree holds " + std::to_string(facts.total) +
                                                 " bytes, counter says " +
                                                 std::to_string(total_size_));
  CORE_CHECK(facts.count == count_);
  return CheckResult::Ok();
}

void Cbs::Describe(std::ostream& os) const {
  os << "Cbs " << count_ << " blocks, " << total_size_ << " bytes, largest " << LargestSize()
     << ", height " << SubtreeHeight(root_) << "\n";
  Iterate([&os](Range block) {
    os << "  " << block << "\n";
    return true;
  });
}

}  // namespace core
