#include "core/land/cbs.h"

#include <algorithm>
#include <vector>

namespace core {
namespace {

using Node = Cbs::Node;

int Height(const Node* n) { return n == nullptr ? 0 : n->height; }
std::size_t MaxSize(const Node* n) { return n == nullptr ? 0 : n->max_size; }

// Recomputes the augmented fields of `n` from its children.
void Update(Node* n) {
  n->height = 1 + std::max(Height(n->left), Height(n->right));
  n->max_size = std::max({n->limit - n->base, MaxSize(n->left), MaxSize(n->right)});
}

Node* RotateRight(Node* n) {
  Node* l = n->left;
  n->left = l->right;
  l->right = n;
  Update(n);
  Update(l);
  return l;
}

Node* RotateLeft(Node* n) {
  Node* r = n->right;
  n->right = r->left;
  r->left = n;
  Update(n);
  Update(r);
  return r;
}

// Restores the AVL balance of `n` (children balanced, heights off by <= 2).
Node* Rebalance(Node* n) {
  Update(n);
  int balance = Height(n->left) - Height(n->right);
  if (balance > 1) {
    if (Height(n->left->left) < Height(n->left->right)) n->left = RotateLeft(n->left);
    return RotateRight(n);
  }
  if (balance < -1) {
    if (Height(n->right->right) < Height(n->right->left)) n->right = RotateRight(n->right);
    return RotateLeft(n);
  }
  return n;
}

Node* InsertNode(Node* n, Node* node) {
  if (n == nullptr) return node;
  if (node->base < n->base) {
    n->left = InsertNode(n->left, node);
  } else {
    n->right = InsertNode(n->right, node);
  }
  return Rebalance(n);
}

// Unlinks the minimum of subtree `n` into *min; returns the new subtree.
Node* UnlinkMin(Node* n, Node** min) {
  if (n->left == nullptr) {
    *min = n;
    return n->right;
  }
  n->left = UnlinkMin(n->left, min);
  return Rebalance(n);
}

// Unlinks the node keyed `base` (which must exist) into *removed.
Node* UnlinkNode(Node* n, Addr base, Node** removed) {
  if (base < n->base) {
    n->left = UnlinkNode(n->left, base, removed);
  } else if (base > n->base) {
    n->right = UnlinkNode(n->right, base, removed);
  } else {
    *removed = n;
    if (n->left == nullptr) return n->right;
    if (n->right == nullptr) return n->left;
    Node* successor;
    Node* right = UnlinkMin(n->right, &successor);
    successor->left = n->left;
    successor->right = right;
    return Rebalance(successor);
  }
  return Rebalance(n);
}

// Gives the node keyed `key` the range `range` (order-preserving), updating
// the augmented sizes on the path. No rotation is needed: heights are
// unchanged.
void SetBlock(Node* n, Addr key, Range range) {
  if (key < n->base) {
    SetBlock(n->left, key, range);
  } else if (key > n->base) {
    SetBlock(n->right, key, range);
  } else {
    n->base = range.base;
    n->limit = range.limit;
  }
  Update(n);
}

// The block with the greatest base <= addr, or nullptr.
const Node* FloorNode(const Node* n, Addr addr) {
  const Node* floor = nullptr;
  while (n != nullptr) {
    if (n->base <= addr) {
      floor = n;
      n = n->right;
    } else {
      n = n->left;
    }
  }
  return floor;
}

// The block with the least base >= addr, or nullptr.
const Node* CeilingNode(const Node* n, Addr addr) {
  const Node* ceiling = nullptr;
  while (n != nullptr) {
    if (n->base >= addr) {
      ceiling = n;
      n = n->left;
    } else {
      n = n->right;
    }
  }
  return ceiling;
}

Range BlockOf(const Node* n) { return {n->base, n->limit}; }
std::size_t SizeOf(const Node* n) { return n->limit - n->base; }

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
  CORE_CHECK(n->left == nullptr || n->base > 0);
  CORE_CHECK(n->right == nullptr || n->limit < ~Addr{0});
  CORE_CHECK_NESTED(CheckSubtree(n->left, low, n->base - 1, &left));
  CORE_CHECK_NESTED(CheckSubtree(n->right, n->limit + 1, high, &right));
  CORE_CHECK(n->height == 1 + std::max(left.height, right.height));
  CORE_CHECK(left.height - right.height <= 1 && right.height - left.height <= 1);
  CORE_CHECK(n->max_size == std::max({SizeOf(n), left.max_size, right.max_size}));
  facts->height = n->height;
  facts->max_size = n->max_size;
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
  FreeSubtree(node->left);
  FreeSubtree(node->right);
  nodes_->FreeUnit(node);
}

Res Cbs::Insert(Range range, Range* coalesced) {
  if (range.empty()) return Res::kParam;
  const Node* pred = FloorNode(root_, range.base);
  const Node* succ = CeilingNode(root_, range.base);
  if (pred != nullptr && pred->limit > range.base) return Res::kFail;
  if (succ != nullptr && succ->base < range.limit) return Res::kFail;
  const bool merge_left = pred != nullptr && pred->limit == range.base;
  const bool merge_right = succ != nullptr && succ->base == range.limit;

  Range block = range;
  if (merge_left && merge_right) {
    block = {pred->base, succ->limit};
    Node* removed;
    root_ = UnlinkNode(root_, succ->base, &removed);
    nodes_->FreeUnit(removed);
    --count_;
    SetBlock(root_, block.base, block);
  } else if (merge_left) {
    block = {pred->base, range.limit};
    SetBlock(root_, pred->base, block);
  } else if (merge_right) {
    block = {range.base, succ->limit};
    SetBlock(root_, succ->base, block);
  } else {
    void* unit;
    if (nodes_->AllocUnit(&unit) != Res::kOk) return Res::kMemory;
    Node* node = static_cast<Node*>(unit);
    *node = Node{range.base, range.limit, range.size(), nullptr, nullptr, 1};
    root_ = InsertNode(root_, node);
    ++count_;
  }
  total_size_ += range.size();
  if (coalesced != nullptr) *coalesced = block;
  return Res::kOk;
}

Res Cbs::Delete(Range range, Range* old) {
  if (range.empty()) return Res::kParam;
  const Node* node = FloorNode(root_, range.base);
  if (node == nullptr || node->limit < range.limit) return Res::kFail;
  const Range block = BlockOf(node);
  if (block == range) {
    Node* removed;
    root_ = UnlinkNode(root_, block.base, &removed);
    nodes_->FreeUnit(removed);
    --count_;
  } else if (block.base == range.base) {
    SetBlock(root_, block.base, {range.limit, block.limit});
  } else if (block.limit == range.limit) {
    SetBlock(root_, block.base, {block.base, range.base});
  } else {
    // Splitting needs a second node; get it first so failure changes nothing.
    // On failure *old still names the block, so a Failover can move it.
    void* unit;
    if (nodes_->AllocUnit(&unit) != Res::kOk) {
      if (old != nullptr) *old = block;
      return Res::kMemory;
    }
    SetBlock(root_, block.base, {block.base, range.base});
    Node* high = static_cast<Node*>(unit);
    *high = Node{range.limit, block.limit, block.limit - range.limit, nullptr, nullptr, 1};
    root_ = InsertNode(root_, high);
    ++count_;
  }
  total_size_ -= range.size();
  if (old != nullptr) *old = block;
  return Res::kOk;
}

bool Cbs::FinishFind(const Node* node, std::size_t size, FindDelete mode, Range* found,
                     Range* old) {
  const Range block = BlockOf(node);
  const Range part = FindDeletePart(block, size, mode);
  if (mode != FindDelete::kNone) {
    // Deleting at an end or the whole block never needs a node.
    Res res = Delete(part, nullptr);
    (void)res;
  }
  if (found != nullptr) *found = part;
  if (old != nullptr) *old = block;
  return true;
}

bool Cbs::FindFirst(std::size_t size, FindDelete mode, Range* found, Range* old) {
  if (size == 0 || MaxSize(root_) < size) return false;
  const Node* n = root_;
  for (;;) {
    if (MaxSize(n->left) >= size) {
      n = n->left;
    } else if (SizeOf(n) >= size) {
      return FinishFind(n, size, mode, found, old);
    } else {
      n = n->right;
    }
  }
}

bool Cbs::FindLast(std::size_t size, FindDelete mode, Range* found, Range* old) {
  if (size == 0 || MaxSize(root_) < size) return false;
  const Node* n = root_;
  for (;;) {
    if (MaxSize(n->right) >= size) {
      n = n->right;
    } else if (SizeOf(n) >= size) {
      return FinishFind(n, size, mode, found, old);
    } else {
      n = n->left;
    }
  }
}

bool Cbs::FindLargest(std::size_t size, FindDelete mode, Range* found, Range* old) {
  const std::size_t largest = MaxSize(root_);
  if (size == 0 || largest < size) return false;
  // Of several largest blocks, take the lowest-addressed one.
  const Node* n = root_;
  for (;;) {
    if (MaxSize(n->left) == largest) {
      n = n->left;
    } else if (SizeOf(n) == largest) {
      return FinishFind(n, size, mode, found, old);
    } else {
      n = n->right;
    }
  }
}

bool Cbs::FindContaining(Addr addr, Range* block) const {
  const Node* n = FloorNode(root_, addr);
  if (n == nullptr || n->limit <= addr) return false;
  *block = BlockOf(n);
  return true;
}

void Cbs::Iterate(FunctionRef<bool(Range)> visit) const {
  // In-order walk with an explicit stack; AVL height is < 1.45 log2(n + 2).
  const Node* stack[96];
  int depth = 0;
  const Node* n = root_;
  while (n != nullptr || depth > 0) {
    while (n != nullptr) {
      stack[depth++] = n;
      n = n->left;
    }
    n = stack[--depth];
    if (!visit(BlockOf(n))) return;
    n = n->right;
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
  os << "Cbs " << count_ << " blocks, " << total_size_ << " bytes, largest "
     << LargestSize() << ", height " << Height(root_) << "\n";
  Iterate([&os](Range block) {
    os << "  " << block << "\n";
    return true;
  });
}

}  // namespace core
