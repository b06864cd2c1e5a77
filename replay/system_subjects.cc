#include "replay/system_subjects.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace replay {
namespace {

constexpr std::size_t kMallocAlignment = 16;  // glibc's, and the others', on x86-64.

// How to read one allocator's footprint: what it holds from the system.
using FootprintFn = std::size_t (*)(void* probe);

struct AllocatorInfo {
  const char* name;
  const char* library;       // The soname to preload; nullptr for libc's own.
  const char* package;       // The Debian package that provides it.
  const char* probe_symbol;  // Looked up once; also proves the allocator is there.
  FootprintFn footprint;     // Definitions: README, "Footprint".
};

// glibc: mallinfo2's arena (sbrk'd and heap-arena bytes) + hblkhd (mmap'd
// chunks). It walks the free lists, hence not cheap.
std::size_t GlibcFootprint(void*) {
  const struct mallinfo2 info = mallinfo2();
  return info.arena + info.hblkhd;
}

// jemalloc: stats.mapped, after bumping the epoch so the statistics are
// current.
std::size_t JemallocFootprint(void* probe) {
  using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
  const auto mallctl = reinterpret_cast<Mallctl>(probe);
  std::uint64_t epoch = 1;
  std::size_t size = sizeof epoch;
  mallctl("epoch", &epoch, &size, &epoch, size);
  std::size_t mapped = 0;
  size = sizeof mapped;
  if (mallctl("stats.mapped", &mapped, &size, nullptr, 0) != 0) return 0;
  return mapped;
}

using MiProcessInfo = void (*)(std::size_t*, std::size_t*, std::size_t*, std::size_t*, std::size_t*,
                               std::size_t*, std::size_t*, std::size_t*);

// mimalloc: the committed bytes it reports in mi_process_info, after
// merging this thread's statistics into the process's.
std::size_t MimallocFootprint(void* probe) {
  static const auto merge = reinterpret_cast<void (*)()>(dlsym(RTLD_DEFAULT, "mi_stats_merge"));
  if (merge != nullptr) merge();
  std::size_t elapsed, user, system, rss, peak_rss, commit = 0, peak_commit, faults;
  reinterpret_cast<MiProcessInfo>(probe)(&elapsed, &user, &system, &rss, &peak_rss, &commit,
                                         &peak_commit, &faults);
  return commit;
}

// tcmalloc: its page heap less the bytes it has returned (unmapped).
std::size_t TcmallocFootprint(void* probe) {
  using GetProperty = int (*)(const char*, std::size_t*);
  const auto get = reinterpret_cast<GetProperty>(probe);
  std::size_t heap = 0, unmapped = 0;
  get("generic.heap_size", &heap);
  get("tcmalloc.pageheap_unmapped_bytes", &unmapped);
  return heap - std::min(heap, unmapped);
}

const AllocatorInfo kAllocators[] = {
    {"glibc", nullptr, "libc6", "mallinfo2", GlibcFootprint},
    {"jemalloc", "libjemalloc.so.2", "libjemalloc2", "mallctl", JemallocFootprint},
    {"mimalloc", "libmimalloc.so.2", "libmimalloc2.0", "mi_process_info", MimallocFootprint},
    {"tcmalloc", "libtcmalloc_minimal.so.4", "libtcmalloc-minimal4",
     "MallocExtension_GetNumericProperty", TcmallocFootprint},
};

const AllocatorInfo* Find(const std::string& name) {
  for (const AllocatorInfo& a : kAllocators) {
    if (name == a.name) return &a;
  }
  return nullptr;
}

std::vector<std::string> LibraryDirectories() {
#if defined(__x86_64__)
  const std::string multiarch = "x86_64-linux-gnu";
#elif defined(__aarch64__)
  const std::string multiarch = "aarch64-linux-gnu";
#else
  const std::string multiarch = "";
#endif
  std::vector<std::string> dirs;
  if (!multiarch.empty()) {
    dirs.push_back("/usr/lib/" + multiarch);
    dirs.push_back("/lib/" + multiarch);
  }
  for (const char* d : {"/usr/lib64", "/usr/lib", "/usr/local/lib"}) dirs.push_back(d);
  return dirs;
}

// The file that defines the malloc this process calls.
std::string MallocLibrary() {
  Dl_info info;
  void* (*this_malloc)(std::size_t) = &malloc;
  if (dladdr(reinterpret_cast<void*>(this_malloc), &info) == 0 || info.dli_fname == nullptr) {
    return "(unknown)";
  }
  return info.dli_fname;
}

class SystemSubject final : public Subject {
 public:
  SystemSubject(const PolicySpec& spec, const AllocatorInfo& info, void* probe)
      : Subject(spec.text), info_(info), probe_(probe) {}

  void* Allocate(std::size_t size, std::size_t alignment) override {
    if (alignment <= kMallocAlignment) return Check(std::malloc(size), size);
    void* p = nullptr;
    return Check(posix_memalign(&p, alignment, size) == 0 ? p : nullptr, size);
  }

  void* AllocateZeroed(std::size_t size, std::size_t alignment) override {
    if (alignment <= kMallocAlignment) return Check(std::calloc(1, size), size);
    return Subject::AllocateZeroed(size, alignment);
  }

  void* Reallocate(void* p, std::size_t old_size, std::size_t new_size,
                   std::size_t alignment) override {
    if (alignment <= kMallocAlignment) return Check(std::realloc(p, new_size), new_size);
    return Subject::Reallocate(p, old_size, new_size, alignment);
  }

  void Free(void* p, std::size_t, std::size_t) override { std::free(p); }

  std::string FailureReason() const override { return failure_; }

  std::size_t Footprint() const override {
    const std::size_t footprint = info_.footprint(probe_);
    peak_ = std::max(peak_, footprint);
    return footprint;
  }
  std::size_t PeakFootprint() const override { return peak_; }
  bool FootprintIsCheap() const override { return false; }

 private:
  void* Check(void* p, std::size_t size) {
    if (p == nullptr) failure_ = absl::StrCat(info_.name, " returned null for ", size, " bytes");
    return p;
  }

  const AllocatorInfo& info_;
  void* probe_;
  std::string failure_;
  mutable std::size_t peak_ = 0;  // Of the footprints read.
};

}  // namespace

bool IsSystemAllocator(const std::string& name) { return Find(name) != nullptr; }

absl::StatusOr<std::string> SystemAllocatorPreload(const PolicySpec& spec) {
  const AllocatorInfo* info = Find(spec.name);
  if (info == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("'", spec.name, "' is not a system allocator"));
  }
  if (absl::Status s = spec.CheckKnownKeys(info->library ? std::vector<std::string>{"lib"}
                                                         : std::vector<std::string>{});
      !s.ok()) {
    return s;
  }
  auto lib = spec.args.find("lib");
  if (lib != spec.args.end()) {
    if (access(lib->second.c_str(), R_OK) != 0) {
      return absl::NotFoundError(absl::StrCat(
          "policy '", spec.text, "': cannot read lib=", lib->second, ": ", std::strerror(errno)));
    }
    return lib->second;
  }
  if (info->library == nullptr) return std::string();
  std::vector<std::string> dirs = LibraryDirectories();
  for (const std::string& dir : dirs) {
    const std::string path = absl::StrCat(dir, "/", info->library);
    if (access(path.c_str(), R_OK) == 0) return path;
  }
  return absl::NotFoundError(absl::StrCat(
      "policy '", spec.text, "': ", info->library, " is not in ", absl::StrJoin(dirs, ", "),
      "; install the Debian package ", info->package, " (tools/setup.sh does) or give lib=PATH"));
}

absl::StatusOr<std::unique_ptr<Subject>> MakeSystemSubject(const PolicySpec& spec) {
  absl::StatusOr<std::string> preload = SystemAllocatorPreload(spec);
  if (!preload.ok()) return preload.status();
  const AllocatorInfo& info = *Find(spec.name);
  void* probe = dlsym(RTLD_DEFAULT, info.probe_symbol);
  const std::string malloc_library = MallocLibrary();
  const std::string expected = info.library != nullptr ? info.library : "libc.so.6";
  const std::string base = malloc_library.substr(malloc_library.rfind('/') + 1);
  const bool preloaded_by_path = !preload->empty() && malloc_library == *preload;
  if (probe == nullptr || (base != expected && !preloaded_by_path)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "policy '", spec.text, "': this process's malloc comes from ", malloc_library, ", not ",
        expected,
        info.library != nullptr ? " (it must be preloaded at exec: replay it in a child)" : "",
        probe == nullptr ? absl::StrCat("; ", info.probe_symbol, " is missing") : ""));
  }
  return std::make_unique<SystemSubject>(spec, info, probe);
}

}  // namespace replay
