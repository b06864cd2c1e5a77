#include "tools/cli/pools_command.h"

#include <cmath>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/arena/arena.h"
#include "core/pool/segregated_cache.h"
#include "core/pools/mfs.h"
#include "core/pools/mvff.h"
#include "core/pools/node_slice.h"
#include "replay/footprint_observer.h"
#include "tools/cli/table.h"
#include "tools/cli/workload_flags.h"

ABSL_FLAG(std::string, pools, "mfs,mvff,node-slice",
          "Comma-separated pool classes to run: mfs, mvff, mvff-sac (MVFF behind a segregated "
          "allocation cache of the default classes), node-slice.");
ABSL_FLAG(std::uint64_t, ops, 1000000, "Allocation and free operations per pool.");
ABSL_FLAG(std::uint64_t, unit_size, 64, "Block size for fixed-size pools (MFS, NodeSlice).");
ABSL_FLAG(std::uint64_t, commit_limit, 0, "Arena commit limit in bytes (0: none).");
ABSL_FLAG(double, spare, 0.75, "Arena spare fraction: free memory kept committed.");
ABSL_FLAG(std::uint64_t, client_arena, 0,
          "If non-zero, use a client arena over a buffer of this many bytes "
          "(deterministic addresses) instead of a virtual-memory arena.");
ABSL_FLAG(bool, mlworks, false, "Use MLWorks' geometry: 16 MiB spaces of 64 KiB grains.");
ABSL_FLAG(bool, describe, false, "Print each pool's and arena's Describe() after the run.");

namespace cli {

const char* const kPoolsFlags[] = {
    "pools",        "ops",   "live",         "min_size", "max_size", "unit_size", "seed",
    "commit_limit", "spare", "client_arena", "mlworks",  "describe", "format",    nullptr};

namespace {

using replay::FootprintObserver;

struct RunResult {
  std::string pool;
  std::uint64_t ops = 0;
  double seconds = 0;
  std::size_t peak_live = 0;
  std::size_t peak_footprint = 0;
  std::size_t final_total = 0;
  std::size_t final_free = 0;
  core::ArenaStats arena;
  std::string error;  // Empty if every operation succeeded.
};

// The pool under test, whatever its class, and the cache in front of it
// if there is one.
struct Subject {
  core::Pool* pool;
  bool fixed_size;
  core::SegregatedCache* cache = nullptr;

  core::Res Alloc(std::size_t size, void** p) const {
    return cache != nullptr ? cache->Alloc(size, p) : pool->Alloc(size, p);
  }
  core::Res Free(void* p, std::size_t size) const {
    return cache != nullptr ? cache->Free(p, size) : pool->Free(p, size);
  }
  core::CheckResult Check() const { return cache != nullptr ? cache->Check() : pool->Check(); }
};

struct Workload {
  std::uint64_t ops, live, min_size, max_size, unit_size, seed;
};

RunResult Run(const std::string& name, const Subject& subject, const Workload& w,
              core::Arena& arena) {
  RunResult result;
  result.pool = name;
  FootprintObserver footprint(arena.stats().committed);
  arena.set_observer(&footprint);
  std::mt19937_64 random(w.seed);
  std::uniform_real_distribution<double> log_size(std::log(double(w.min_size)),
                                                  std::log(double(w.max_size) + 1));
  struct Block {
    void* p;
    std::size_t size;
  };
  std::vector<Block> live;
  live.reserve(w.live + 1);
  std::size_t live_bytes = 0;
  const absl::Time start = absl::Now();
  for (std::uint64_t op = 0; op < w.ops; ++op) {
    if (live.size() >= w.live || (!live.empty() && random() % 2 == 0)) {
      const std::size_t i = random() % live.size();
      core::Res res = subject.Free(live[i].p, live[i].size);
      if (res != core::Res::kOk) {
        result.error = absl::StrCat("free at operation ", op, ": ", core::ResMessage(res));
        break;
      }
      live_bytes -= live[i].size;
      live[i] = live.back();
      live.pop_back();
    } else {
      const std::size_t size = subject.fixed_size
                                   ? w.unit_size
                                   : std::min<std::size_t>(std::exp(log_size(random)), w.max_size);
      void* p;
      core::Res res = subject.Alloc(size, &p);
      if (res != core::Res::kOk) {
        result.error = absl::StrCat("allocation of ", size, " bytes at operation ", op, ": ",
                                    core::ResMessage(res));
        break;
      }
      live.push_back({p, size});
      live_bytes += size;
      result.peak_live = std::max(result.peak_live, live_bytes);
    }
    result.ops = op + 1;
  }
  result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  result.final_total = subject.pool->TotalSize();
  result.final_free = subject.pool->FreeSize();
  for (const Block& b : live) (void)subject.Free(b.p, b.size);
  if (subject.cache != nullptr) subject.cache->Flush();
  result.peak_footprint = footprint.peak();
  result.arena = arena.stats();
  arena.set_observer(nullptr);
  return result;
}

std::string Fragmentation(const RunResult& r) {
  if (r.peak_live == 0) return "";
  return absl::StrFormat("%.3f", double(r.peak_footprint) / double(r.peak_live) - 1);
}

}  // namespace

int RunPoolsCommand(const CommandArgs& args, std::ostream& out, std::ostream& err) {
  if (!args.positional.empty() || !args.policies.empty()) {
    err << "workbench pools: takes no arguments or --policy; see --help\n";
    return 2;
  }
  absl::StatusOr<TableFormat> format = ParseTableFormat(absl::GetFlag(FLAGS_format));
  if (!format.ok()) {
    err << "workbench pools: " << format.status().message() << "\n";
    return 2;
  }
  const Workload w{absl::GetFlag(FLAGS_ops),       absl::GetFlag(FLAGS_live),
                   absl::GetFlag(FLAGS_min_size),  absl::GetFlag(FLAGS_max_size),
                   absl::GetFlag(FLAGS_unit_size), absl::GetFlag(FLAGS_seed)};
  if (w.min_size == 0 || w.min_size > w.max_size || w.unit_size == 0 || w.live == 0) {
    err << "workbench pools: need 0 < --min_size <= --max_size, --unit_size > 0 and --live > 0\n";
    return 2;
  }
  core::ArenaOptions options =
      absl::GetFlag(FLAGS_mlworks) ? core::ArenaOptions::MlWorks() : core::ArenaOptions{};
  options.spare = absl::GetFlag(FLAGS_spare);
  if (absl::GetFlag(FLAGS_commit_limit) != 0)
    options.commit_limit = absl::GetFlag(FLAGS_commit_limit);
  const std::uint64_t client_size = absl::GetFlag(FLAGS_client_arena);

  Table table({"pool", "ops", "ns/op", "peak live", "peak footprint", "fragmentation", "pool total",
               "pool free", "reserve calls", "commit calls", "decommit calls", "error"});
  std::ostringstream described;
  int status = 0;
  const std::vector<std::string> names =
      absl::StrSplit(absl::GetFlag(FLAGS_pools), ',', absl::SkipEmpty());
  for (const std::string& name : names) {
    std::unique_ptr<char[]> buffer;
    std::unique_ptr<core::Arena> arena;
    core::Res res;
    if (client_size != 0) {
      buffer.reset(new (std::nothrow) char[client_size]);
      res = buffer ? core::Arena::CreateClient(buffer.get(), client_size, options, &arena)
                   : core::Res::kResource;
    } else {
      res = core::Arena::CreateVirtual(options, &arena);
    }
    if (res != core::Res::kOk) {
      err << "workbench pools: cannot create the arena: " << core::ResMessage(res) << "\n";
      return 1;
    }
    RunResult result;
    {
      std::unique_ptr<core::Pool> owned;
      std::unique_ptr<core::NodeSliceTree> tree;
      std::unique_ptr<core::SegregatedCache> cache;
      Subject subject{nullptr, true};
      if (name == "mfs") {
        owned =
            std::make_unique<core::Mfs>(arena.get(), core::MfsOptions{.unit_size = w.unit_size});
        subject.pool = owned.get();
      } else if (name == "mvff" || name == "mvff-sac") {
        owned = std::make_unique<core::Mvff>(arena.get(), core::MvffOptions{});
        subject = {owned.get(), false};
        if (name == "mvff-sac") {
          cache = std::make_unique<core::SegregatedCache>(owned.get(),
                                                          core::SegregatedCache::DefaultClasses());
          subject.cache = cache.get();
        }
      } else if (name == "node-slice") {
        tree = std::make_unique<core::NodeSliceTree>(arena.get());
        core::NodeSliceHandle handle;
        res =
            tree->Create(tree->root(), core::NodeSliceOptions{.slice_size = w.unit_size}, &handle);
        if (res != core::Res::kOk) {
          err << "workbench pools: cannot create a NodeSlice pool: " << core::ResMessage(res)
              << "\n";
          return 1;
        }
        subject.pool = tree->Get(handle);
      } else {
        err << "workbench pools: unknown pool class '" << name
            << "': expected mfs, mvff, mvff-sac or node-slice\n";
        return 2;
      }
      result = Run(name, subject, w, *arena);
      if (absl::GetFlag(FLAGS_describe)) {
        if (cache != nullptr) cache->Describe(described);
        subject.pool->Describe(described);
        arena->Describe(described);
      }
      const core::CheckResult check = subject.Check();
      if (!check.ok) {
        result.error = absl::StrCat(result.error.empty() ? "" : "; ", "check failed: ", check.what);
      }
    }
    if (!result.error.empty()) status = 1;
    table.AddRow({result.pool, absl::StrCat(result.ops),
                  absl::StrFormat("%.1f", result.ops ? result.seconds * 1e9 / result.ops : 0.0),
                  absl::StrCat(result.peak_live), absl::StrCat(result.peak_footprint),
                  Fragmentation(result), absl::StrCat(result.final_total),
                  absl::StrCat(result.final_free), absl::StrCat(result.arena.reserve_calls),
                  absl::StrCat(result.arena.commit_calls),
                  absl::StrCat(result.arena.decommit_calls), result.error});
  }
  table.Write(out, *format);
  out << described.str();
  return status;
}

}  // namespace cli
