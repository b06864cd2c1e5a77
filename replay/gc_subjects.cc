#include "replay/gc_subjects.h"

#include "absl/strings/str_cat.h"
#include "core/gc/object_format.h"
#include "core/pools/amc.h"
#include "replay/gc_subject.h"
#include "replay/subject_arena.h"

namespace replay {
namespace {

class AmcSubject final : public GcSubject {
 public:
  static absl::StatusOr<std::unique_ptr<Subject>> Make(const PolicySpec& spec) {
    if (absl::Status s = spec.CheckKnownKeys(
            WithArenaKeys({"chain", "segment", "large", "incremental", "budget"}));
        !s.ok()) {
      return s;
    }
    core::AmcOptions options;
    std::vector<std::uint64_t> default_chain;
    for (const core::AmcGeneration& g : options.chain) default_chain.push_back(g.capacity);
    absl::StatusOr<std::vector<std::uint64_t>> chain = spec.GetSizeList("chain", default_chain);
    absl::StatusOr<std::uint64_t> segment = spec.GetSize("segment", options.segment_size);
    absl::StatusOr<std::uint64_t> large = spec.GetSize("large", options.large_size);
    absl::StatusOr<bool> incremental = spec.GetBool("incremental", false);
    absl::StatusOr<std::uint64_t> budget = spec.GetSize("budget", 256 << 10);
    for (const absl::Status& s : {chain.status(), segment.status(), large.status(),
                                  incremental.status(), budget.status()}) {
      if (!s.ok()) return s;
    }
    options.chain.clear();
    // MPS's default mortalities for the first two, then the last again.
    const double mortality[] = {0.85, 0.45};
    for (std::size_t i = 0; i < chain->size(); ++i) {
      options.chain.push_back({(*chain)[i], mortality[std::min<std::size_t>(i, 1)]});
    }
    options.segment_size = *segment;
    options.large_size = *large;
    std::unique_ptr<AmcSubject> subject(new AmcSubject(spec, *incremental, *budget));
    if (absl::Status s = MakeSubjectArena(spec, &subject->arena_); !s.ok()) return s;
    if (options.chain.empty() || *budget == 0 ||
        core::Amc::Create(subject->arena_.arena.get(), &subject->format_, &subject->roots_, options,
                          &subject->pool_) != core::Res::kOk) {
      return absl::InvalidArgumentError(absl::StrCat(
          "policy '", spec.text,
          "': expected a non-empty chain, budget > 0, and large <= segment, both multiples "
          "of 16"));
    }
    return std::unique_ptr<Subject>(std::move(subject));
  }

  ~AmcSubject() override { pool_.reset(); }

  core::gc::Roots& roots() override { return roots_; }

  absl::Status Poll(bool* collected) override {
    *collected = false;
    core::Res res = core::Res::kOk;
    if (!incremental_) {
      if (!pool_->NeedsCollection()) return absl::OkStatus();
      res = pool_->Collect(false);
      *collected = res == core::Res::kOk;
    } else {
      if (pool_->phase() == core::gc::Phase::kIdle) {
        if (!pool_->NeedsCollection()) return absl::OkStatus();
        res = pool_->StartCollection(false);
      }
      if (res == core::Res::kOk) res = pool_->Step(budget_, collected);
    }
    return Check(res);
  }

  absl::Status Collect(bool full) override { return Check(pool_->Collect(full)); }
  bool Collecting() const override { return pool_->phase() != core::gc::Phase::kIdle; }
  bool YoungOnly() const override { return pool_->condemned_generation() == 0; }

  core::Addr AllocateObject(std::size_t bytes) override {
    void* p;
    const core::Res res = pool_->Alloc(bytes, &p);
    if (res != core::Res::kOk) {
      failure_ = absl::StrCat("allocating an object of ", bytes, " bytes: ", core::ResMessage(res));
      return 0;
    }
    return core::ToAddr(p);
  }
  void NoteStore(core::Addr obj, core::Addr target) override { pool_->NoteStore(obj, target); }
  void BeforeUse(core::Addr* ref) override { pool_->FixMutatorRef(ref); }
  bool IsValidObject(core::Addr a) const override {
    core::GrainInfo grain;
    return arena_.arena->Lookup(a, &grain) && grain.pool_id == pool_->id() &&
           grain.type != core::SegmentType::kFromSpace && !pool_->IsCondemned(a);
  }

  std::string FailureReason() const override { return failure_; }
  std::size_t Footprint() const override { return arena_.observer.committed(); }
  std::size_t PeakFootprint() const override { return arena_.observer.peak(); }

  std::vector<std::pair<std::string, std::uint64_t>> GcCounters() const override {
    const core::AmcStats& s = pool_->stats();
    std::vector<std::pair<std::string, std::uint64_t>> out = {
        {"collections", s.collections}, {"condemned", s.condemned}, {"copied", s.copied},
        {"promoted", s.promoted},       {"reclaimed", s.reclaimed}, {"scanned", s.scanned}};
    std::uint64_t heap = 0;
    for (int g = 0; g < pool_->generations(); ++g) heap += pool_->GenerationBytes(g);
    out.emplace_back("heap bytes", heap);
    for (std::size_t g = 0; g < s.collections_by_generation.size(); ++g) {
      out.emplace_back(absl::StrCat("collections of gen ", g), s.collections_by_generation[g]);
    }
    return out;
  }
  std::vector<std::pair<std::string, std::uint64_t>> Counters() const override {
    return GcCounters();
  }

  absl::Status Check() const override {
    core::CheckResult check = arena_.arena->Check();
    if (check.ok) check = pool_->Check();
    if (check.ok) return absl::OkStatus();
    return absl::InternalError(absl::StrCat(name(), ": ", check.what));
  }

 private:
  AmcSubject(const PolicySpec& spec, bool incremental, std::uint64_t budget)
      : GcSubject(spec.text), incremental_(incremental), budget_(budget) {}

  absl::Status Check(core::Res res) {
    if (res == core::Res::kOk) return absl::OkStatus();
    return absl::ResourceExhaustedError(
        absl::StrCat(name(), ": the collection failed: ", core::ResMessage(res)));
  }

  const bool incremental_;
  const std::size_t budget_;
  std::string failure_;
  SubjectArena arena_;
  core::gc::ObjectFormat format_;
  core::gc::Roots roots_;
  std::unique_ptr<core::Amc> pool_;
};

}  // namespace

bool IsGcPolicy(const std::string& name) { return name == "amc"; }

absl::StatusOr<std::unique_ptr<Subject>> MakeGcSubject(const PolicySpec& spec) {
  if (spec.name == "amc") return AmcSubject::Make(spec);
  return absl::InvalidArgumentError(absl::StrCat("unknown collector '", spec.name, "'"));
}

}  // namespace replay
