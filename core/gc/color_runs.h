// Hands on a walk's coloured pieces of memory with adjacent pieces of one
// colour merged, so that a walk over a million small objects reports a few
// runs (what the visualizer's map needs).
#ifndef CORE_GC_COLOR_RUNS_H_
#define CORE_GC_COLOR_RUNS_H_

#include "core/base/address.h"
#include "core/base/function_ref.h"
#include "core/gc/phase.h"

namespace core::gc {

class ColorRuns {
 public:
  explicit ColorRuns(FunctionRef<void(Range, TraceColor)> visit) : visit_(visit) {}
  ~ColorRuns() { Flush(); }
  ColorRuns(const ColorRuns&) = delete;
  ColorRuns& operator=(const ColorRuns&) = delete;

  // Pieces come in address order.
  void Add(Range piece, TraceColor color) {
    if (piece.empty()) return;
    if (open_ && color == color_ && piece.base == run_.limit) {
      run_.limit = piece.limit;
      return;
    }
    Flush();
    run_ = piece;
    color_ = color;
    open_ = true;
  }

 private:
  void Flush() {
    if (open_) visit_(run_, color_);
    open_ = false;
  }

  FunctionRef<void(Range, TraceColor)> visit_;
  Range run_{};
  TraceColor color_ = TraceColor::kCondemned;
  bool open_ = false;
};

}  // namespace core::gc

#endif  // CORE_GC_COLOR_RUNS_H_
