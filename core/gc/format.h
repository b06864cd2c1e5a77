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
class ScanState {
 public:
  static constexpr int kZoneShift = 20;  // 1 MiB zones, 64 of them.
  static std::uint64_t ZoneOf(Addr a) { return std::uint64_t{1} << ((a >> kZoneShift) & 63); }

  ScanState(Fixer* fixer, std::uint64_t white_zones) : fixer_(fixer), white_zones_(white_zones) {}

  void Fix(Addr* ref) {
    const Addr a = *ref;
    if (a == 0) return;
    if ((white_zones_ & ZoneOf(a)) != 0) fixer_->Fix(*this, ref);
    summary_ |= ZoneOf(*ref);
  }
  void FixWeak(Addr* ref) {
    const Addr a = *ref;
    if (a != 0 && (white_zones_ & ZoneOf(a)) != 0) fixer_->FixWeak(ref);
  }

  // The zones the references fixed since the last reset point into: a
  // segment's summary, for the remembered set.
  std::uint64_t summary() const { return summary_; }
  void ResetSummary() { summary_ = 0; }

 private:
  Fixer* fixer_;
  std::uint64_t white_zones_;
  std::uint64_t summary_ = 0;
};

}  // namespace core::gc

#endif  // CORE_GC_FORMAT_H_
