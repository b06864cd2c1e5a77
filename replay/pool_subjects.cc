#include "replay/pool_subjects.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/arena/arena.h"
#include "core/pool/segregated_cache.h"
#include "core/pool/size_classes.h"
#include "core/pools/mfs.h"
#include "core/pools/mvff.h"
#include "core/pools/node_slice.h"
#include "replay/subject_arena.h"

namespace replay {
namespace {

constexpr std::size_t kNaturalAlignment = 16;  // malloc's guarantee.

// The arena, its observer and (for a client arena) its buffer: what every
// pool subject stands on. Also serves blocks aligned beyond the pools'
// natural 16 bytes, by over-allocating and remembering the raw block.
class PoolSubjectBase : public Subject {
 public:
  void* Allocate(std::size_t size, std::size_t alignment) final {
    if (alignment <= kNaturalAlignment) return RawAllocate(size);
    if (size > SIZE_MAX - alignment) {
      failure_ = "size plus alignment overflows";
      return nullptr;
    }
    void* raw = RawAllocate(size + alignment);
    if (raw == nullptr) return nullptr;
    void* aligned = core::ToPointer(core::AlignUp(core::ToAddr(raw), alignment));
    over_aligned_[aligned] = raw;
    return aligned;
  }

  void Free(void* p, std::size_t size, std::size_t alignment) final {
    if (alignment <= kNaturalAlignment) return RawFree(p, size);
    auto it = over_aligned_.find(p);
    if (it == over_aligned_.end()) return;  // The engine only frees what it got.
    RawFree(it->second, size + alignment);
    over_aligned_.erase(it);
  }

  std::string FailureReason() const override { return failure_; }
  std::size_t Footprint() const override { return arena_.observer.committed(); }
  std::size_t PeakFootprint() const override { return arena_.observer.peak(); }

  std::vector<std::pair<std::string, std::uint64_t>> Counters() const override {
    const core::ArenaStats stats = arena()->stats();
    return {{"arena reserve calls", stats.reserve_calls},
            {"arena commit calls", stats.commit_calls},
            {"arena decommit calls", stats.decommit_calls},
            {"arena reserved", stats.reserved},
            {"arena control", stats.control}};
  }

  absl::Status Check() const override {
    core::CheckResult check = arena()->Check();
    if (!check.ok) return absl::InternalError(absl::StrCat(name(), ": arena: ", check.what));
    return CheckPools();
  }

 protected:
  PoolSubjectBase(const PolicySpec& spec) : Subject(spec.text) {}

  absl::Status MakeArena(const PolicySpec& spec) { return MakeSubjectArena(spec, &arena_); }

  virtual void* RawAllocate(std::size_t size) = 0;
  virtual void RawFree(void* p, std::size_t size) = 0;
  virtual absl::Status CheckPools() const = 0;

  // Records why an allocation failed and returns nullptr.
  void* Fail(core::Res res, std::size_t size) {
    failure_ = absl::StrCat("allocating ", size, " bytes: ", core::ResMessage(res));
    return nullptr;
  }

  static absl::Status CheckPool(const std::string& subject, const core::Pool& pool) {
    core::CheckResult check = pool.Check();
    if (check.ok) return absl::OkStatus();
    return absl::InternalError(absl::StrCat(subject, ": ", pool.class_name(), ": ", check.what));
  }

  const core::Arena* arena() const override { return arena_.arena.get(); }
  bool AttachObserver(core::Observer* observer) override {
    arena_.observer.set_next(observer);
    return true;
  }
  core::Arena* arena() { return arena_.arena.get(); }

  // Destroyed after the pools, which live in subclasses.
  SubjectArena arena_;

 private:
  std::string failure_;
  absl::flat_hash_map<void*, void*> over_aligned_;
};

absl::StatusOr<core::MvffOptions> MvffOptionsFrom(const PolicySpec& spec) {
  core::MvffOptions o;
  absl::StatusOr<bool> first_fit = spec.GetBool("first_fit", o.first_fit);
  absl::StatusOr<bool> slot_high = spec.GetBool("slot_high", o.slot_high);
  absl::StatusOr<bool> arena_high = spec.GetBool("arena_high", o.arena_high);
  absl::StatusOr<std::uint64_t> extend_by = spec.GetSize("extend_by", o.extend_by);
  absl::StatusOr<std::uint64_t> mean_size = spec.GetSize("mean_size", o.mean_size);
  absl::StatusOr<std::uint64_t> align = spec.GetSize("align", o.align);
  absl::StatusOr<double> spare = spec.GetDouble("spare", o.spare);
  for (const absl::Status& s :
       {first_fit.status(), slot_high.status(), arena_high.status(), extend_by.status(),
        mean_size.status(), align.status(), spare.status()}) {
    if (!s.ok()) return s;
  }
  o = {*extend_by, *mean_size, *align, *first_fit, *slot_high, *arena_high, *spare};
  if (core::Mvff::Validate(o) != core::Res::kOk) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy '", spec.text,
                     "': align must be a power of two >= 8, extend_by and mean_size > 0, "
                     "spare in [0, 1]"));
  }
  if (o.align < kNaturalAlignment) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy '", spec.text, "': align=", o.align,
                     ": a replay subject must give malloc's 16-byte alignment; use align >= 16"));
  }
  return o;
}

const std::vector<std::string> kMvffKeys = {"first_fit", "slot_high", "arena_high", "extend_by",
                                            "mean_size", "align",     "spare"};

// The cache in front of an MVFF subject's pool, from keys `sac` (class
// sizes) and `sac_count` (blocks cached per class); none unless either is
// given.
absl::StatusOr<std::vector<core::SacClass>> SacClassesFrom(const PolicySpec& spec) {
  if (spec.args.count("sac") == 0 && spec.args.count("sac_count") == 0) {
    return std::vector<core::SacClass>{};
  }
  absl::StatusOr<std::vector<std::uint64_t>> sizes =
      spec.GetSizeList("sac", {core::kDefaultSizeClasses.begin(), core::kDefaultSizeClasses.end()});
  if (!sizes.ok()) return sizes.status();
  absl::StatusOr<std::uint64_t> count = spec.GetSize("sac_count", 16);
  if (!count.ok()) return count.status();
  std::vector<core::SacClass> classes;
  for (std::uint64_t size : *sizes) classes.push_back({size, *count});
  const bool aligned = std::all_of(classes.begin(), classes.end(), [](const core::SacClass& c) {
    return c.block_size % kNaturalAlignment == 0;
  });
  if (!aligned || core::SegregatedCache::Validate(classes) != core::Res::kOk) {
    return absl::InvalidArgumentError(absl::StrCat(
        "policy '", spec.text,
        "': sac must list increasing multiples of 16 (at most 255 of them, up to 1m) and "
        "sac_count must be below 2^32, e.g. sac=32,64,128;sac_count=16"));
  }
  return classes;
}

class MvffSubject final : public PoolSubjectBase {
 public:
  static absl::StatusOr<std::unique_ptr<Subject>> Make(const PolicySpec& spec) {
    std::vector<std::string> keys = kMvffKeys;
    keys.insert(keys.end(), {"sac", "sac_count"});
    if (absl::Status s = spec.CheckKnownKeys(WithArenaKeys(keys)); !s.ok()) return s;
    absl::StatusOr<core::MvffOptions> options = MvffOptionsFrom(spec);
    if (!options.ok()) return options.status();
    absl::StatusOr<std::vector<core::SacClass>> classes = SacClassesFrom(spec);
    if (!classes.ok()) return classes.status();
    std::unique_ptr<MvffSubject> subject(new MvffSubject(spec));
    if (absl::Status s = subject->MakeArena(spec); !s.ok()) return s;
    subject->pool_ = std::make_unique<core::Mvff>(subject->arena(), *options);
    if (!classes->empty()) {
      subject->cache_ = std::make_unique<core::SegregatedCache>(subject->pool_.get(), *classes);
    }
    return subject;
  }
  ~MvffSubject() override {
    cache_.reset();
    pool_.reset();
  }

  std::vector<std::pair<std::string, std::uint64_t>> Counters() const override {
    std::vector<std::pair<std::string, std::uint64_t>> counters = PoolSubjectBase::Counters();
    if (cache_ != nullptr) {
      const core::SacStats& stats = cache_->stats();
      counters.insert(counters.end(), {{"sac fills", stats.fills},
                                       {"sac blocks filled", stats.blocks_filled},
                                       {"sac empties", stats.empties},
                                       {"sac blocks emptied", stats.blocks_emptied},
                                       {"sac large", stats.large},
                                       {"sac refused", stats.refused},
                                       {"sac cached bytes", cache_->CachedBytes()}});
    }
    return counters;
  }

  void WalkCachedBlocks(core::FunctionRef<bool(core::Range)> visit) const override {
    if (cache_ != nullptr) cache_->WalkCached(visit);
  }

 protected:
  void* RawAllocate(std::size_t size) override {
    void* p;
    core::Res res = cache_ != nullptr ? cache_->Alloc(size, &p) : pool_->Alloc(size, &p);
    return res == core::Res::kOk ? p : Fail(res, size);
  }
  void RawFree(void* p, std::size_t size) override {
    (void)(cache_ != nullptr ? cache_->Free(p, size) : pool_->Free(p, size));
  }
  absl::Status CheckPools() const override {
    if (cache_ == nullptr) return CheckPool(name(), *pool_);
    core::CheckResult check = cache_->Check();
    if (check.ok) return absl::OkStatus();
    return absl::InternalError(absl::StrCat(name(), ": segregated cache: ", check.what));
  }

 private:
  explicit MvffSubject(const PolicySpec& spec) : PoolSubjectBase(spec) {}
  std::unique_ptr<core::Mvff> pool_;
  std::unique_ptr<core::SegregatedCache> cache_;  // Optional, in front of pool_.
};

// Segregated storage: a fixed-size pool per size class, MVFF above them.
class ClassesSubject final : public PoolSubjectBase {
 public:
  enum class Kind { kMfs, kNodeSlice };

  static absl::StatusOr<std::unique_ptr<Subject>> Make(const PolicySpec& spec, Kind kind) {
    if (absl::Status s = spec.CheckKnownKeys(WithArenaKeys({"classes", "large", "extend_by"}));
        !s.ok()) {
      return s;
    }
    absl::StatusOr<std::vector<std::uint64_t>> classes = spec.GetSizeList(
        "classes", {core::kDefaultSizeClasses.begin(), core::kDefaultSizeClasses.end()});
    if (!classes.ok()) return classes.status();
    absl::StatusOr<std::uint64_t> extend_by = spec.GetSize("extend_by", 64 << 10);
    if (!extend_by.ok()) return extend_by.status();
    absl::StatusOr<PolicySpec> large = spec.GetSpec("large", "mvff");
    if (!large.ok()) return large.status();
    if (large->name != "mvff") {
      return absl::InvalidArgumentError(
          absl::StrCat("policy '", spec.text, "': large=", large->text, ": expected mvff(...)"));
    }
    if (absl::Status s = large->CheckKnownKeys(kMvffKeys); !s.ok()) return s;
    absl::StatusOr<core::MvffOptions> large_options = MvffOptionsFrom(*large);
    if (!large_options.ok()) return large_options.status();

    std::vector<std::uint64_t> sizes = *classes;
    for (std::uint64_t& s : sizes) s = core::AlignUp(std::max<std::uint64_t>(s, 1), 16);
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    if (sizes.empty() || sizes.back() > (1 << 20)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "policy '", spec.text, "': classes must be 1 to 1048576 bytes, e.g. 16,32,64"));
    }

    std::unique_ptr<ClassesSubject> subject(new ClassesSubject(spec));
    if (absl::Status s = subject->MakeArena(spec); !s.ok()) return s;
    core::Arena* arena = subject->arena();
    if (kind == Kind::kNodeSlice) subject->tree_ = std::make_unique<core::NodeSliceTree>(arena);
    for (std::uint64_t size : sizes) {
      if (kind == Kind::kMfs) {
        subject->owned_.push_back(std::make_unique<core::Mfs>(
            arena, core::MfsOptions{.unit_size = size, .extend_by = *extend_by}));
        subject->pools_.push_back(subject->owned_.back().get());
      } else {
        core::NodeSliceHandle handle;
        core::Res res = subject->tree_->Create(
            subject->tree_->root(),
            core::NodeSliceOptions{.slice_size = size, .node_size = *extend_by}, &handle);
        if (res != core::Res::kOk) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "policy '", spec.text, "': cannot create a NodeSlice pool: ", core::ResMessage(res)));
        }
        subject->pools_.push_back(subject->tree_->Get(handle));
      }
    }
    subject->large_ = std::make_unique<core::Mvff>(arena, *large_options);
    // Size -> class index, in 16-byte steps, for an O(1) lookup.
    subject->largest_class_ = sizes.back();
    for (std::uint64_t step = 0; step * 16 <= sizes.back(); ++step) {
      const auto it =
          std::lower_bound(sizes.begin(), sizes.end(), std::max<std::uint64_t>(step * 16, 1));
      subject->class_of_.push_back(static_cast<std::uint16_t>(it - sizes.begin()));
    }
    return subject;
  }

  ~ClassesSubject() override {
    large_.reset();
    owned_.clear();
    tree_.reset();
  }

 protected:
  void* RawAllocate(std::size_t size) override {
    void* p;
    core::Res res = size <= largest_class_ ? pools_[class_of_[(size + 15) / 16]]->Alloc(size, &p)
                                           : large_->Alloc(size, &p);
    return res == core::Res::kOk ? p : Fail(res, size);
  }
  void RawFree(void* p, std::size_t size) override {
    if (size <= largest_class_) {
      (void)pools_[class_of_[(size + 15) / 16]]->Free(p, size);
    } else {
      (void)large_->Free(p, size);
    }
  }
  absl::Status CheckPools() const override {
    for (const core::Pool* pool : pools_) {
      if (absl::Status s = CheckPool(name(), *pool); !s.ok()) return s;
    }
    if (tree_ != nullptr) {
      core::CheckResult check = tree_->Check();
      if (!check.ok) return absl::InternalError(absl::StrCat(name(), ": tree: ", check.what));
    }
    return CheckPool(name(), *large_);
  }

 private:
  explicit ClassesSubject(const PolicySpec& spec) : PoolSubjectBase(spec) {}

  std::unique_ptr<core::NodeSliceTree> tree_;
  std::vector<std::unique_ptr<core::Pool>> owned_;
  std::vector<core::Pool*> pools_;  // One per class, smallest first.
  std::unique_ptr<core::Mvff> large_;
  std::vector<std::uint16_t> class_of_;
  std::size_t largest_class_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Subject>> MakePoolSubject(const PolicySpec& spec) {
  if (spec.name == "mvff") return MvffSubject::Make(spec);
  if (spec.name == "mfs-classes") return ClassesSubject::Make(spec, ClassesSubject::Kind::kMfs);
  if (spec.name == "node-slice-classes") {
    return ClassesSubject::Make(spec, ClassesSubject::Kind::kNodeSlice);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown policy '", spec.name,
                   "': expected mvff, mfs-classes, node-slice-classes, glibc, jemalloc, mimalloc "
                   "or tcmalloc"));
}

}  // namespace replay
