#include "replay/gc_subjects.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/gc/object_format.h"
#include "core/pools/amc.h"
#include "core/pools/ams.h"
#include "replay/clock.h"
#include "replay/gc_subject.h"
#include "replay/subject_arena.h"

namespace replay {
namespace {

// What every subject over one of the core's collecting pools shares: the
// arena, the object format, the roots, polling for collections (stop the
// world, or incremental steps of `budget` bytes), footprint and checks.
class CollectorSubject : public GcSubject {
 public:
  core::gc::Roots& roots() override { return roots_; }

  // While a collection is under way, once every kPollBytes allocated:
  // a poll reads the clock three times, and polling at every allocation
  // was 15% of GCBench's replay under incremental AMC.
  bool PollDue() const override {
    return Collecting() ? since_poll_ >= kPollBytes : NeedsCollection();
  }
  absl::Status Poll(bool* collected) override {
    *collected = false;
    since_poll_ = 0;
    core::Res res = core::Res::kOk;
    if (!incremental_) {
      if (!NeedsCollection()) return absl::OkStatus();
      ++work_count_;
      res = Work([&] { return CollectNow(false); });
      *collected = res == core::Res::kOk;
    } else {
      const double now = MonotonicSeconds();
      if (!Collecting()) {
        if (!NeedsCollection()) return absl::OkStatus();
        res = Work([&] { return Start(); });
        allocated_ = since_start_ = 0;
        credit_ = share_ * kShareWindow;
        last_poll_ = now;
      }
      // Time-sliced: the collector may take `share` of the time, banked
      // over a short window, so the mutator keeps its utilisation; unless
      // allocation has run far ahead of the collection.
      credit_ = std::min(credit_ + share_ * (now - last_poll_), share_ * kShareWindow);
      last_poll_ = now;
      if (credit_ <= 0 && since_start_ < kRunAheadBytes) return Checked(res);
      // Paced: work in proportion to what was allocated since the last
      // step (MPS's collection rate), and at least the budget.
      const std::size_t work = std::max<std::size_t>(
          budget_, static_cast<std::size_t>(rate_ * static_cast<double>(allocated_)));
      allocated_ = 0;
      ++work_count_;
      if (res == core::Res::kOk) res = Work([&] { return StepBy(work, collected); });
      credit_ -= MonotonicSeconds() - now;
    }
    return Checked(res);
  }
  absl::Status Collect(bool full) override {
    ++work_count_;
    return Checked(Work([&] { return CollectNow(full); }));
  }
  std::uint64_t work_count() const override { return work_count_; }

  core::Addr AllocateObject(std::size_t bytes) override {
    void* p;
    allocated_ += bytes;
    since_start_ += bytes;
    since_poll_ += bytes;
    const core::Res res = pool()->Alloc(bytes, &p);
    if (res != core::Res::kOk) {
      failure_ = absl::StrCat("allocating an object of ", bytes, " bytes: ", core::ResMessage(res));
      return 0;
    }
    return core::ToAddr(p);
  }

  std::string FailureReason() const override { return failure_; }
  const core::Arena* arena() const override { return arena_.arena.get(); }
  bool AttachObserver(core::Observer* observer) override {
    arena_.observer.set_next(observer);
    return true;
  }
  std::size_t Footprint() const override { return arena_.observer.committed(); }
  std::size_t PeakFootprint() const override { return arena_.observer.peak(); }
  std::vector<std::pair<std::string, std::uint64_t>> Counters() const override {
    auto counters = GcCounters();
    if (!incremental_) counters.emplace_back("pause faults", collection_faults_);
    return counters;
  }
  absl::Status Check() const override {
    core::CheckResult check = arena_.arena->Check();
    if (check.ok) check = pool()->Check();
    if (check.ok) return absl::OkStatus();
    return absl::InternalError(absl::StrCat(name(), ": ", check.what));
  }

 protected:
  CollectorSubject(const PolicySpec& spec) : GcSubject(spec.text) {}

  // Reads incremental=, budget= and rate=, and makes the arena.
  absl::Status Setup(const PolicySpec& spec) {
    absl::StatusOr<bool> incremental = spec.GetBool("incremental", false);
    absl::StatusOr<std::uint64_t> budget = spec.GetSize("budget", 16 << 10);
    absl::StatusOr<double> rate = spec.GetDouble("rate", 0.25);
    absl::StatusOr<double> share = spec.GetDouble("share", 0.1);
    for (const absl::Status& s :
         {incremental.status(), budget.status(), rate.status(), share.status()}) {
      if (!s.ok()) return s;
    }
    if (*budget == 0 || *rate < 0 || *share <= 0 || *share > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "policy '", spec.text, "': expected budget > 0, rate >= 0 and share in (0, 1]"));
    }
    incremental_ = *incremental;
    budget_ = *budget;
    rate_ = *rate;
    share_ = *share;
    return MakeSubjectArena(spec, &arena_);
  }

  // The object at `obj` (0: none) as ObjectAt reports it.
  std::optional<HeapObject> Describe(core::Addr obj, int generation) const {
    if (obj == 0) return std::nullopt;
    const core::Addr to = format_.IsForwarded(obj);
    return HeapObject{obj, core::gc::ObjectFormat::Id(to != 0 ? to : obj), format_.Size(obj), to,
                      generation};
  }

  bool OwnsLiveGrain(core::Addr a, const core::Pool& pool) const {
    core::GrainInfo grain;
    // From-space and AMC's copy reserve are the pool's, but hold no live object.
    return arena_.arena->Lookup(a, &grain) && grain.pool_id == pool.id() &&
           grain.type != core::SegmentType::kFromSpace &&
           grain.type != core::SegmentType::kCopyReserve;
  }

  virtual const core::Pool* pool() const = 0;
  core::Pool* pool() { return const_cast<core::Pool*>(std::as_const(*this).pool()); }
  virtual bool NeedsCollection() const = 0;
  virtual core::Res Start() = 0;
  virtual core::Res StepBy(std::size_t budget, bool* done) = 0;
  virtual core::Res CollectNow(bool full) = 0;

  SubjectArena arena_;
  core::gc::ObjectFormat format_;
  core::gc::Roots roots_;

 private:
  // Runs collection work, counting the page faults taken in it; not in
  // incremental steps, where two system calls a step made GCBench's
  // replay 6% slower (they cost more than their 0.8 us on this machine).
  template <typename F>
  core::Res Work(F work) {
    if (incremental_) return work();
    const std::uint64_t before = MinorFaults();
    const core::Res res = work();
    collection_faults_ += MinorFaults() - before;
    return res;
  }
  absl::Status Checked(core::Res res) {
    if (res == core::Res::kOk) return absl::OkStatus();
    return absl::ResourceExhaustedError(
        absl::StrCat(name(), ": the collection failed: ", core::ResMessage(res)));
  }

  bool incremental_ = false;
  std::size_t budget_ = 0;       // Least work per poll, in bytes scanned or copied.
  double rate_ = 0;              // Work per byte allocated.
  double share_ = 1;             // Most of the time the collector may take.
  std::size_t allocated_ = 0;    // Bytes allocated since the last step.
  std::size_t since_start_ = 0;  // Bytes allocated since the collection began.
  std::size_t since_poll_ = 0;   // Bytes allocated since the last poll.
  double credit_ = 0;            // Collector time it may still take (seconds).
  double last_poll_ = 0;
  std::uint64_t work_count_ = 0;
  std::uint64_t collection_faults_ = 0;
  static constexpr double kShareWindow = 0.005;  // Seconds of collector time banked at most.
  static constexpr std::size_t kRunAheadBytes = std::size_t{64} << 20;
  static constexpr std::size_t kPollBytes = 4096;
  std::string failure_;
};

const std::vector<std::string> kCollectorKeys = {"incremental", "budget", "rate", "share"};

std::vector<std::string> Keys(std::vector<std::string> own) {
  own.insert(own.end(), kCollectorKeys.begin(), kCollectorKeys.end());
  return WithArenaKeys(std::move(own));
}

class AmcSubject final : public CollectorSubject {
 public:
  static absl::StatusOr<std::unique_ptr<Subject>> Make(const PolicySpec& spec) {
    if (absl::Status s = spec.CheckKnownKeys(Keys({"chain", "segment", "large", "copy_reserve"}));
        !s.ok()) {
      return s;
    }
    core::AmcOptions options;
    std::vector<std::uint64_t> default_chain;
    for (const core::AmcGeneration& g : options.chain) default_chain.push_back(g.capacity);
    absl::StatusOr<std::vector<std::uint64_t>> chain = spec.GetSizeList("chain", default_chain);
    absl::StatusOr<std::uint64_t> segment = spec.GetSize("segment", options.segment_size);
    absl::StatusOr<std::uint64_t> large = spec.GetSize("large", options.large_size);
    absl::StatusOr<bool> copy_reserve = spec.GetBool("copy_reserve", options.copy_reserve);
    for (const absl::Status& s :
         {chain.status(), segment.status(), large.status(), copy_reserve.status()}) {
      if (!s.ok()) return s;
    }
    options.copy_reserve = *copy_reserve;
    options.chain.clear();
    // MPS's default mortalities for the first two generations, then the last again.
    const double mortality[] = {0.85, 0.45};
    for (std::size_t i = 0; i < chain->size(); ++i) {
      options.chain.push_back({(*chain)[i], mortality[std::min<std::size_t>(i, 1)]});
    }
    options.segment_size = *segment;
    options.large_size = *large;
    std::unique_ptr<AmcSubject> subject(new AmcSubject(spec));
    if (absl::Status s = subject->Setup(spec); !s.ok()) return s;
    if (options.chain.empty() ||
        core::Amc::Create(subject->arena_.arena.get(), &subject->format_, &subject->roots_, options,
                          &subject->pool_) != core::Res::kOk) {
      return absl::InvalidArgumentError(absl::StrCat(
          "policy '", spec.text,
          "': expected a non-empty chain, and large <= segment, both multiples of 16"));
    }
    return std::unique_ptr<Subject>(std::move(subject));
  }
  ~AmcSubject() override { pool_.reset(); }

  bool Collecting() const override { return pool_->phase() != core::gc::Phase::kIdle; }
  bool YoungOnly() const override { return pool_->condemned_generation() == 0; }
  void NoteStore(core::Addr obj, core::Addr target) override { pool_->NoteStore(obj, target); }
  void BeforeUse(core::Addr* ref) override { pool_->FixMutatorRef(ref); }
  bool IsValidObject(core::Addr a) const override {
    return OwnsLiveGrain(a, *pool_) && !pool_->IsCondemned(a);
  }
  std::uint64_t HeapBytes() const override {
    std::uint64_t heap = 0;
    for (int g = 0; g < pool_->generations(); ++g) heap += pool_->GenerationBytes(g);
    return heap;
  }
  std::vector<std::pair<std::string, std::uint64_t>> GcCounters() const override {
    const core::AmcStats& s = pool_->stats();
    std::vector<std::pair<std::string, std::uint64_t>> out = {
        {"collections", s.collections},  {"condemned", s.condemned}, {"copied", s.copied},
        {"promoted", s.promoted},        {"reclaimed", s.reclaimed}, {"scanned", s.scanned},
        {"trace ns", s.trace_ns},        {"weak ns", s.weak_ns},     {"reclaim ns", s.reclaim_ns},
        {"reserve used", s.reserve_used}};
    // Copying throughput: bytes copied per second of tracing, in MB/s.
    if (s.trace_ns > 0) out.emplace_back("copy MB/s", s.copied * 1000 / s.trace_ns);
    out.emplace_back("heap bytes", HeapBytes());
    for (std::size_t g = 0; g < s.collections_by_generation.size(); ++g) {
      out.emplace_back(absl::StrCat("collections of gen ", g), s.collections_by_generation[g]);
    }
    return out;
  }
  void WalkTraceColors(
      core::FunctionRef<void(core::Range, core::gc::TraceColor)> visit) const override {
    pool_->WalkTraceColors(visit);
  }
  std::vector<std::uint64_t> GenerationSizes() const override {
    std::vector<std::uint64_t> sizes;
    for (int g = 0; g < pool_->generations(); ++g) sizes.push_back(pool_->GenerationBytes(g));
    return sizes;
  }
  std::optional<HeapObject> ObjectAt(core::Addr a) const override {
    return Describe(pool_->ObjectContaining(a), pool_->GenerationOf(a));
  }

 private:
  explicit AmcSubject(const PolicySpec& spec) : CollectorSubject(spec) {}
  const core::Pool* pool() const override { return pool_.get(); }
  bool NeedsCollection() const override { return pool_->NeedsCollection(); }
  core::Res Start() override { return pool_->StartCollection(false); }
  core::Res StepBy(std::size_t budget, bool* done) override { return pool_->Step(budget, done); }
  core::Res CollectNow(bool full) override { return pool_->Collect(full); }

  std::unique_ptr<core::Amc> pool_;
};

class AmsSubject final : public CollectorSubject {
 public:
  static absl::StatusOr<std::unique_ptr<Subject>> Make(const PolicySpec& spec) {
    if (absl::Status s = spec.CheckKnownKeys(Keys({"segment", "max_class", "collect_after"}));
        !s.ok()) {
      return s;
    }
    core::AmsOptions options;
    absl::StatusOr<std::uint64_t> segment = spec.GetSize("segment", options.segment_size);
    absl::StatusOr<std::uint64_t> max_class = spec.GetSize("max_class", options.max_class);
    absl::StatusOr<std::uint64_t> after = spec.GetSize("collect_after", options.collect_after);
    for (const absl::Status& s : {segment.status(), max_class.status(), after.status()}) {
      if (!s.ok()) return s;
    }
    options.segment_size = *segment;
    options.max_class = *max_class;
    options.collect_after = *after;
    std::unique_ptr<AmsSubject> subject(new AmsSubject(spec));
    if (absl::Status s = subject->Setup(spec); !s.ok()) return s;
    if (core::Ams::Create(subject->arena_.arena.get(), &subject->format_, &subject->roots_, options,
                          &subject->pool_) != core::Res::kOk) {
      return absl::InvalidArgumentError(
          absl::StrCat("policy '", spec.text,
                       "': expected max_class a multiple of 16 and segment >= max_class"));
    }
    return std::unique_ptr<Subject>(std::move(subject));
  }
  ~AmsSubject() override { pool_.reset(); }

  bool Collecting() const override { return pool_->phase() != core::gc::Phase::kIdle; }
  bool YoungOnly() const override { return false; }
  void NoteStore(core::Addr obj, core::Addr target) override { pool_->NoteStore(obj, target); }
  void BeforeUse(core::Addr* ref) override { pool_->FixMutatorRef(ref); }
  bool IsValidObject(core::Addr a) const override {
    return OwnsLiveGrain(a, *pool_) && pool_->IsObject(a);
  }
  std::uint64_t HeapBytes() const override { return pool_->allocated_bytes(); }
  std::vector<std::pair<std::string, std::uint64_t>> GcCounters() const override {
    const core::AmsStats& s = pool_->stats();
    return {{"collections", s.collections}, {"marked", s.marked},     {"swept", s.swept},
            {"reclaimed", s.reclaimed},     {"scanned", s.scanned},   {"mark ns", s.mark_ns},
            {"weak ns", s.weak_ns},         {"sweep ns", s.sweep_ns}, {"heap bytes", HeapBytes()}};
  }
  void WalkTraceColors(
      core::FunctionRef<void(core::Range, core::gc::TraceColor)> visit) const override {
    pool_->WalkTraceColors(visit);
  }
  std::optional<HeapObject> ObjectAt(core::Addr a) const override {
    return Describe(pool_->ObjectContaining(a), -1);
  }

 private:
  explicit AmsSubject(const PolicySpec& spec) : CollectorSubject(spec) {}
  const core::Pool* pool() const override { return pool_.get(); }
  bool NeedsCollection() const override { return pool_->NeedsCollection(); }
  core::Res Start() override { return pool_->StartCollection(); }
  core::Res StepBy(std::size_t budget, bool* done) override { return pool_->Step(budget, done); }
  core::Res CollectNow(bool) override { return pool_->Collect(); }

  std::unique_ptr<core::Ams> pool_;
};

}  // namespace

bool IsGcPolicy(const std::string& name) { return name == "amc" || name == "ams"; }

absl::StatusOr<std::unique_ptr<Subject>> MakeGcSubject(const PolicySpec& spec) {
  if (spec.name == "amc") return AmcSubject::Make(spec);
  if (spec.name == "ams") return AmsSubject::Make(spec);
  return absl::InvalidArgumentError(absl::StrCat("unknown collector '", spec.name, "'"));
}

}  // namespace replay
