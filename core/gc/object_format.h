// The object format the replay engine lays GC-trace objects out in (and the
// core's tests use): a two-word header, the reference slots, the payload.
//   word 0: the object's id (never 0)
//   word 1: size in bytes (low 48 bits) | reference slots << 48
//   words 2 .. 2 + slots: references (addresses of other objects, or 0)
//   the rest: payload
// Sizes are multiples of 16. Two header encodings are not objects: slots
// 0xFFFF with size 2^48 - 1 is a forwarding marker (word 0: the new
// address), slots 0xFFFF with another size is padding of that size.
#ifndef CORE_GC_OBJECT_FORMAT_H_
#define CORE_GC_OBJECT_FORMAT_H_

#include <cstdint>
#include <cstring>

#include "core/gc/format.h"

namespace core::gc {

class ObjectFormat final : public Format {
 public:
  static constexpr std::size_t kAlignment = 16;
  static constexpr std::size_t kHeaderSize = 16;
  static constexpr std::uint64_t kMaxSlots = 0xFFFE;
  static constexpr std::uint64_t kMaxSize = (std::uint64_t{1} << 48) - 16;

  // The bytes an object with `slots` references and `payload` bytes takes.
  static std::size_t ObjectSize(std::uint64_t slots, std::uint64_t payload) {
    return (kHeaderSize + slots * 8 + payload + kAlignment - 1) & ~(kAlignment - 1);
  }
  // Writes the header of a new object of `size` bytes (from ObjectSize) and
  // clears its slots; the payload is left to the caller.
  static void Init(Addr obj, std::uint64_t id, std::uint64_t size, std::uint64_t slots) {
    Word(obj, 0) = id;
    Word(obj, 1) = size | slots << 48;
    std::memset(reinterpret_cast<void*>(obj + kHeaderSize), 0, slots * 8);
  }
  static std::uint64_t Id(Addr obj) { return Word(obj, 0); }
  static std::uint64_t Slots(Addr obj) { return Word(obj, 1) >> 48; }
  static Addr* Slot(Addr obj, std::uint64_t i) {
    return reinterpret_cast<Addr*>(obj + kHeaderSize + i * 8);
  }
  static Addr PayloadStart(Addr obj) { return obj + kHeaderSize + Slots(obj) * 8; }

  std::size_t alignment() const override { return kAlignment; }
  std::size_t min_size() const override { return kHeaderSize; }
  bool IsObject(Addr p) const override { return (Word(p, 1) >> 48) != kSpecial; }
  std::size_t Size(Addr obj) const override {
    const std::uint64_t w = Word(obj, 1);
    return (w & kSizeMask) == kSizeMask ? kHeaderSize : w & kSizeMask;
  }
  void Scan(ScanState& ss, Addr base, Addr limit) const override {
    ScanWith(base, limit, [&ss](Addr* ref) { ss.Fix(ref); });
  }
  // Scan's loop, calling `fix(slot)` for every reference slot: a pool that
  // knows this format inlines its fix here instead of a call per slot.
  template <class FixRef>
  static void ScanWith(Addr base, Addr limit, FixRef&& fix) {
    // Fixing a reference reads its target's header, usually a cache miss
    // (copying order is not allocation order). A second cursor runs
    // kPrefetchAhead objects ahead and starts those loads early.
    Addr ahead = base;
    for (int i = 0; i < kPrefetchAhead && ahead < limit; ++i) ahead = PrefetchTargets(ahead);
    for (Addr obj = base; obj < limit;) {
      if (ahead < limit) ahead = PrefetchTargets(ahead);
      const std::uint64_t w = Word(obj, 1);
      const std::uint64_t slots = w >> 48;
      if (slots != kSpecial) {
        Addr* slot = Slot(obj, 0);
        for (std::uint64_t i = 0; i < slots; ++i) fix(slot + i);
      }
      obj += w & kSizeMask;
    }
  }
  void Forward(Addr obj, Addr to) const override {
    // The old copy keeps its size readable for heap walks through
    // from-space: size in word 0's place is lost, so keep it in a pad
    // header after the marker when there is room.
    const std::uint64_t size = Word(obj, 1) & kSizeMask;
    Word(obj, 0) = to;
    Word(obj, 1) = kSizeMask | kSpecial << 48;
    if (size >= 2 * kHeaderSize) Pad(obj + kHeaderSize, size - kHeaderSize);
  }
  Addr IsForwarded(Addr obj) const override {
    return Word(obj, 1) == (kSizeMask | kSpecial << 48) ? Word(obj, 0) : 0;
  }
  void Pad(Addr base, std::size_t size) const override {
    Word(base, 0) = 0;
    Word(base, 1) = size | kSpecial << 48;
  }

 private:
  static constexpr std::uint64_t kSpecial = 0xFFFF;
  static constexpr int kPrefetchAhead = 8;
  // Starts loading the headers the references of the object at `obj` point
  // to (the first few); returns the next object.
  static Addr PrefetchTargets(Addr obj) {
    const std::uint64_t w = Word(obj, 1);
    const std::uint64_t slots = w >> 48;
    if (slots != kSpecial) {
      const Addr* slot = Slot(obj, 0);
      for (std::uint64_t i = 0; i < slots && i < 4; ++i) {
        if (slot[i] != 0) __builtin_prefetch(reinterpret_cast<const void*>(slot[i] + 8));
      }
    }
    return obj + (w & kSizeMask);
  }
  static constexpr std::uint64_t kSizeMask = (std::uint64_t{1} << 48) - 1;
  static std::uint64_t& Word(Addr obj, int i) { return reinterpret_cast<std::uint64_t*>(obj)[i]; }
};

}  // namespace core::gc

#endif  // CORE_GC_OBJECT_FORMAT_H_
