#include "traces/generators/generators.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "traces/generators/gc_generators.h"

namespace traces {
namespace {

using replay::Event;
using replay::EventKind;

// Draws block sizes from the chosen distribution within [min, max].
class SizeSource {
 public:
  SizeSource(const GeneratorOptions& o, std::mt19937_64* random) : o_(o), random_(random) {}

  std::uint64_t Next() {
    const double lo = static_cast<double>(o_.min_size);
    const double hi = static_cast<double>(o_.max_size);
    double x;
    if (o_.distribution == "uniform") {
      x = std::uniform_real_distribution<double>(lo, hi + 1)(*random_);
    } else if (o_.distribution == "exponential") {
      // Mean a quarter of the range above the minimum, cut at the maximum.
      x = lo + std::exponential_distribution<double>(4.0 / std::max(hi - lo, 1.0))(*random_);
    } else {
      x = std::exp(
          std::uniform_real_distribution<double>(std::log(lo), std::log(hi + 1))(*random_));
    }
    return std::clamp<std::uint64_t>(static_cast<std::uint64_t>(x), o_.min_size, o_.max_size);
  }

 private:
  const GeneratorOptions& o_;
  std::mt19937_64* random_;
};

// Writes events with increasing ids and times.
class Emitter {
 public:
  explicit Emitter(replay::TraceWriter& writer) : writer_(writer) {}

  absl::StatusOr<std::uint64_t> Alloc(std::uint64_t size, std::uint32_t thread) {
    Event e;
    e.kind = EventKind::kAlloc;
    e.id = next_id_++;
    e.size = size;
    e.thread = thread;
    if (absl::Status s = Put(e); !s.ok()) return s;
    return e.id;
  }
  absl::Status Free(std::uint64_t id, std::uint32_t thread) {
    Event e;
    e.kind = EventKind::kFree;
    e.id = id;
    e.thread = thread;
    return Put(e);
  }
  absl::StatusOr<std::uint64_t> Realloc(std::uint64_t id, std::uint64_t size,
                                        std::uint32_t thread) {
    Event e;
    e.kind = EventKind::kRealloc;
    e.id = id;
    e.new_id = next_id_++;
    e.size = size;
    e.thread = thread;
    if (absl::Status s = Put(e); !s.ok()) return s;
    return e.new_id;
  }
  std::uint64_t events() const { return events_; }

 private:
  absl::Status Put(Event& e) {
    e.time_ns = time_ += 50;
    ++events_;
    return writer_.Write(e);
  }
  replay::TraceWriter& writer_;
  std::uint64_t next_id_ = 1;
  std::uint64_t time_ = 0;
  std::uint64_t events_ = 0;
};

absl::Status GenerateRandom(const GeneratorOptions& o, std::mt19937_64& random, Emitter& out) {
  SizeSource sizes(o, &random);
  std::vector<std::uint64_t> live;
  while (out.events() < o.events) {
    const double u = std::uniform_real_distribution<double>(0, 1)(random);
    if (live.size() < o.live && (live.empty() || u < 0.5)) {
      absl::StatusOr<std::uint64_t> id = out.Alloc(sizes.Next(), 0);
      if (!id.ok()) return id.status();
      live.push_back(*id);
    } else {
      const std::size_t i = random() % live.size();
      if (u < 0.55) {  // Some blocks grow or shrink in place of dying.
        absl::StatusOr<std::uint64_t> id = out.Realloc(live[i], sizes.Next(), 0);
        if (!id.ok()) return id.status();
        live[i] = *id;
        continue;
      }
      if (absl::Status s = out.Free(live[i], 0); !s.ok()) return s;
      live[i] = live.back();
      live.pop_back();
    }
  }
  for (std::uint64_t id : live) {
    if (absl::Status s = out.Free(id, 0); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status GenerateLarson(const GeneratorOptions& o, std::mt19937_64& random, Emitter& out) {
  SizeSource sizes(o, &random);
  std::vector<std::vector<std::uint64_t>> arrays(o.threads);
  for (std::uint32_t t = 0; t < o.threads; ++t) {
    for (std::uint64_t i = 0; i < o.live; ++i) {
      absl::StatusOr<std::uint64_t> id = out.Alloc(sizes.Next(), t);
      if (!id.ok()) return id.status();
      arrays[t].push_back(*id);
    }
  }
  // Each round, every thread replaces `live` random blocks of the array it
  // holds; then the arrays move on to the next thread.
  for (std::uint32_t round = 0; out.events() < o.events; ++round) {
    for (std::uint32_t t = 0; t < o.threads && out.events() < o.events; ++t) {
      std::vector<std::uint64_t>& array = arrays[(t + round) % o.threads];
      for (std::uint64_t k = 0; k < o.live && out.events() < o.events; ++k) {
        const std::size_t i = random() % array.size();
        if (absl::Status s = out.Free(array[i], t); !s.ok()) return s;
        absl::StatusOr<std::uint64_t> id = out.Alloc(sizes.Next(), t);
        if (!id.ok()) return id.status();
        array[i] = *id;
      }
    }
  }
  for (std::uint32_t t = 0; t < o.threads; ++t) {
    for (std::uint64_t id : arrays[t]) {
      if (absl::Status s = out.Free(id, t); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status GeneratePhases(const GeneratorOptions& o, std::mt19937_64& random, Emitter& out) {
  SizeSource sizes(o, &random);
  const std::uint64_t per_phase = std::max<std::uint64_t>(o.events / o.phases, 2);
  std::vector<std::uint64_t> live;
  for (std::uint32_t phase = 0; phase < o.phases; ++phase) {
    // Build up to a peak (the survivors of earlier phases stay).
    const std::uint64_t target = out.events() + per_phase / 2;
    while (out.events() < target) {
      absl::StatusOr<std::uint64_t> id = out.Alloc(sizes.Next(), 0);
      if (!id.ok()) return id.status();
      live.push_back(*id);
    }
    // Tear down about nine in ten, in the chosen order.
    if (o.teardown == "lifo") std::reverse(live.begin(), live.end());
    if (o.teardown == "random") std::shuffle(live.begin(), live.end(), random);
    const std::size_t keep = live.size() / 10;
    for (std::size_t i = keep; i < live.size(); ++i) {
      if (absl::Status s = out.Free(live[i], 0); !s.ok()) return s;
    }
    live.resize(keep);
  }
  for (std::uint64_t id : live) {
    if (absl::Status s = out.Free(id, 0); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Generate(const GeneratorOptions& o, replay::TraceWriter& writer) {
  if (o.min_size == 0 || o.min_size > o.max_size) {
    return absl::InvalidArgumentError("gen: need 0 < --min_size <= --max_size");
  }
  if (o.live == 0 || o.threads == 0 || o.phases == 0) {
    return absl::InvalidArgumentError("gen: --live, --threads and --phases must be positive");
  }
  if (o.distribution != "uniform" && o.distribution != "loguniform" &&
      o.distribution != "exponential") {
    return absl::InvalidArgumentError(
        absl::StrCat("gen: unknown --distribution '", o.distribution,
                     "': expected uniform, loguniform or exponential"));
  }
  if (o.teardown != "fifo" && o.teardown != "lifo" && o.teardown != "random") {
    return absl::InvalidArgumentError(
        absl::StrCat("gen: unknown --teardown '", o.teardown, "': expected fifo, lifo or random"));
  }
  if (IsGcWorkload(o.workload)) return GenerateGc(o, writer);
  std::mt19937_64 random(o.seed);
  Emitter out(writer);
  if (o.workload == "random") return GenerateRandom(o, random, out);
  if (o.workload == "larson") return GenerateLarson(o, random, out);
  if (o.workload == "phases") return GeneratePhases(o, random, out);
  return absl::InvalidArgumentError(
      absl::StrCat("gen: unknown workload '", o.workload,
                   "': expected random, larson, phases, gcbench, cons or cache"));
}

}  // namespace traces
