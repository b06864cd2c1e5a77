// How a collector finds its way around the client's objects: MPS's object
// format protocol (scan, skip, forward, is-forwarded, pad), and the scan
// state through which a format reports each reference it finds.
#ifndef CORE_GC_FORMAT_H_
#define CORE_GC_FORMAT_H_

#include <cstddef>
#include <cstdint>

#include "core/base/address.h"

namespace core::gc {

class ScanState;

class Format {
 public:
  virtual ~Format() = default;
  // Every object starts on, and every size is a multiple of, this.
  virtual std::size_t alignment() const = 0;
  // The smallest object or padding there can be.
  virtual std::size_t min_size() const = 0;
  // Whether `p` (the start of an object, padding or forwarding marker) is an
  // object, i.e. neither padding nor forwarded.
  virtual bool IsObject(Addr p) const = 0;
  // Skip: the size of the object (or padding) at `obj`.
  virtual std::size_t Size(Addr obj) const = 0;
  // Calls ss.Fix on every reference slot of every object in [base, limit),
  // which holds objects and padding end to end.
  virtual void Scan(ScanState& ss, Addr base, Addr limit) const = 0;
  // Overwrites the object at `obj`, already copied to `to`, with a
  // forwarding marker.
  virtual void Forward(Addr obj, Addr to) const = 0;
  // Where the object at `obj` was forwarded to, or 0 if it was not.
  virtual Addr IsForwarded(Addr obj) const = 0;
  // Fills [base, base + size) with padding that Scan and Size step over.
  virtual void Pad(Addr base, std::size_t size) const = 0;
};

// Implemented by a collecting pool: fixes a reference into its condemned
// (white) memory by copying or marking the object and updating *ref. The
// scan state calls it for every reference the zone filter lets through,
// so the pool makes the precise test itself, with the one lookup it needs
// anyway (one virtual call per candidate reference, not two).
class Fixer {
 public:
  virtual ~Fixer() = default;
  // Fixes *ref if it is white; leaves it alone otherwise.
  virtual void Fix(ScanState& ss, Addr* ref) = 0;
  // Weak, only after tracing has finished: if *ref is white, updates it
  // if the object survived (was forwarded or marked), else clears it.
  virtual void FixWeak(Addr* ref) = 0;
};

// What scanning carries from reference to reference: MPS's fix protocol.
// The inline test throws out null and, through a 64-bit summary of the
// condemned zones, most references that cannot be white; only the rest
// reach the pool's Fix.
//
// A pool tracing a heap may ask for deferred fixes: then a candidate is
// prefetched and queued, and fixed when kQueue later candidates have come
// in (or at Flush), so that the cache miss on its target overlaps the
// work on the others. Whoever needs *ref fixed at once (a read barrier,
// roots) leaves deferral off.
class ScanState {
 public:
  static constexpr int kZoneShift = 20;  // 1 MiB zones, 64 of them.
  static std::uint64_t ZoneOf(Addr a) { return std::uint64_t{1} << ((a >> kZoneShift) & 63); }

  ScanState(Fixer* fixer, std::uint64_t white_zones, bool deferred = false)
      : fixer_(fixer), white_zones_(white_zones), deferred_(deferred) {}
  ~ScanState() { Flush(); }
  ScanState(const ScanState&) = delete;
  ScanState& operator=(const ScanState&) = delete;

  void Fix(Addr* ref) {
    FixWith(ref, [this](Addr* r) { fixer_->Fix(*this, r); });
  }
  // Fix, with the pool's fix known at compile time: `fix(ref)` does what
  // fixer->Fix(*this, ref) would, and inlines into the scan loop. Flush
  // still goes through the fixer.
  template <class FixFn>
  void FixWith(Addr* ref, FixFn&& fix) {
    const Addr a = *ref;
    if (a == 0 || (white_zones_ & ZoneOf(a)) == 0) return;
    if (!deferred_) {
      fix(ref);
      return;
    }
    // The header, and the next line: most objects are small, and copying
    // reads them whole.
    __builtin_prefetch(reinterpret_cast<const void*>(a));
    __builtin_prefetch(reinterpret_cast<const void*>(a + 64));
    Addr*& slot = queue_[tail_++ % kQueue];
    if (slot != nullptr) fix(slot);  // The oldest, kQueue candidates ago.
    slot = ref;
  }
  void FixWeak(Addr* ref) {
    const Addr a = *ref;
    if (a != 0 && (white_zones_ & ZoneOf(a)) != 0) fixer_->FixWeak(ref);
  }
  // Fixes every deferred candidate now. Fixing may scan (never recursively
  // through this state's queue: a pool's Fix copies, it does not scan).
  void Flush() {
    for (std::size_t i = 0; i < kQueue; ++i) {
      Addr*& slot = queue_[(tail_ + i) % kQueue];
      if (slot != nullptr) {
        Addr* ref = slot;
        slot = nullptr;
        fixer_->Fix(*this, ref);
      }
    }
  }

 private:
  static constexpr std::size_t kQueue = 16;

  Fixer* fixer_;
  std::uint64_t white_zones_;
  bool deferred_;
  std::size_t tail_ = 0;
  Addr* queue_[kQueue] = {};
};

}  // namespace core::gc

#endif  // CORE_GC_FORMAT_H_
