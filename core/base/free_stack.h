// An intrusive LIFO of fixed-size free units, linked through the units
// themselves. It is the free list of MFS and of the arena's node store: push
// and pop are a load and a store, with no bookkeeping outside the units.
#ifndef CORE_BASE_FREE_STACK_H_
#define CORE_BASE_FREE_STACK_H_

#include <cstddef>

namespace core {

class FreeStack {
 public:
  bool empty() const { return top_ == nullptr; }
  std::size_t count() const { return count_; }

  void Push(void* unit) {
    auto* link = static_cast<Link*>(unit);
    link->next = top_;
    top_ = link;
    ++count_;
  }

  // Returns nullptr when empty.
  void* Pop() {
    Link* link = top_;
    if (link == nullptr) return nullptr;
    top_ = link->next;
    --count_;
    return link;
  }

  // Visits every unit on the stack, top first. For Check() and Describe().
  template <typename Visitor>
  void ForEach(Visitor&& visit) const {
    for (const Link* link = top_; link != nullptr; link = link->next) visit(link);
  }

  void Clear() {
    top_ = nullptr;
    count_ = 0;
  }

 private:
  struct Link {
    Link* next;
  };
  Link* top_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace core

#endif  // CORE_BASE_FREE_STACK_H_
