// librecord.so: an LD_PRELOAD library that records the malloc family of an
// unmodified program into raw logs (traces/capture/raw_log.h) for
// `workbench record` to convert. How it stays out of the program's way is in
// traces/capture/DESIGN.md. Nothing here may call malloc: buffers and tables
// come from mmap or static storage, and output goes through write(2).
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "replay/event.h"
#include "traces/capture/id_map.h"
#include "traces/capture/raw_log.h"

#define HOOK extern "C" __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))

namespace capture {
namespace {

// The trace's flavours (replay/event.h: header-only enums; this library
// links none of the replay code).
using replay::Flavour;
using enum replay::Flavour;

// --- The functions we wrap, found with dlsym(RTLD_NEXT). ---

struct Real {
  void* (*malloc)(size_t);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  void* (*reallocarray)(void*, size_t, size_t);
  void (*free)(void*);
  void* (*memalign)(size_t, size_t);
  int (*posix_memalign)(void**, size_t, size_t);
  void* (*aligned_alloc)(size_t, size_t);
  void* (*valloc)(size_t);
  void* (*pvalloc)(size_t);
  size_t (*malloc_usable_size)(void*);
  void (*exit_now)(int);
  int (*execve)(const char*, char* const[], char* const[]);
  int (*execv)(const char*, char* const[]);
  int (*execvp)(const char*, char* const[]);
  int (*execvpe)(const char*, char* const[], char* const[]);
  int (*fexecve)(int, char* const[], char* const[]);
};
Real real;

// 0: not started, 1: dlsym in progress, 2: ready.
std::atomic<int> g_state{0};

// dlsym itself allocates (calloc for its error state), so until the real
// functions are known, allocations come from here and are never freed.
constexpr std::size_t kBootBytes = 1 << 16;
alignas(64) char g_boot[kBootBytes];
std::atomic<std::size_t> g_boot_used{0};

void* BootAlloc(std::size_t size, std::size_t alignment) {
  if (alignment < 16) alignment = 16;
  // A 16-byte header before the block holds its size (for realloc).
  for (;;) {
    std::size_t used = g_boot_used.load(std::memory_order_relaxed);
    std::size_t start = (used + 16 + alignment - 1) & ~(alignment - 1);
    if (start + size > kBootBytes || start + size < start) return nullptr;
    if (g_boot_used.compare_exchange_weak(used, start + size)) {
      std::memcpy(g_boot + start - 16, &size, sizeof(size));
      return g_boot + start;  // Static storage: already zero.
    }
  }
}

bool IsBoot(const void* p) {
  return p >= static_cast<const void*>(g_boot) && p < static_cast<const void*>(g_boot + kBootBytes);
}

std::size_t BootSize(const void* p) {
  std::size_t size;
  std::memcpy(&size, static_cast<const char*>(p) - 16, sizeof(size));
  return size;
}

// --- Per-process recording state. ---

bool g_recording = false;  // This process image records.
bool g_follow = false;     // Fork children record too.
bool g_direct = false;     // After the exit flush: write each record at once.
bool g_forked = false;
// The raw log, opened on the first flush and published (release) only once
// its header is written.
std::atomic<int> g_fd{-1};
SpinLock g_fd_lock;
std::uint64_t g_init_mono_ns = 0;
std::uint64_t g_init_real_ns = 0;
std::uint64_t g_init_ticks = 0;
std::atomic<std::uint64_t> g_seq{1};
IdMap g_map;
char g_dir[1024];
pthread_key_t g_thread_key;
bool g_have_key = false;

// Each thread appends to its own buffer without a lock: only the owner
// writes records and `used`. Flushes (by the owner when full, and by the
// exit and signal paths for every thread) hold `lock` and write the records
// from `flushed` to `used`; only the owner's flush resets both to 0.
constexpr std::uint32_t kBufferRecords = 2048;
struct ThreadBuffer {
  SpinLock lock;
  std::atomic<bool> owned{false};
  std::atomic<std::uint32_t> used{0};
  std::uint32_t flushed = 0;
  ThreadBuffer* next = nullptr;
  RawRecord records[kBufferRecords];
};
ThreadBuffer* g_buffers = nullptr;  // Every buffer ever made (reused, never freed).
SpinLock g_buffers_lock;

TLS ThreadBuffer* t_buffer;
TLS std::uint32_t t_tid;
TLS bool t_busy;              // Inside a hook's own work: pass everything through.
TLS std::uint64_t t_records;  // Records this thread made.
TLS std::uint64_t t_ticks;    // The clock when last read.

std::uint64_t Now(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
}

// The record clock (raw_log.h): cheap, and calibrated at every flush.
inline std::uint64_t Ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return Now(CLOCK_MONOTONIC);
#endif
}

// Decimal digits of v at *p, advancing it.
void AppendNumber(char** p, std::uint64_t v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = char('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *(*p)++ = digits[--n];
}

void WriteAll(int fd, const void* data, std::size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = write(fd, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // Disk full or similar: the converter sees a short log.
    p += n;
    bytes -= std::size_t(n);
  }
}

std::size_t ReadFile(const char* path, char* out, std::size_t capacity) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::size_t total = 0;
  while (total < capacity) {
    ssize_t n = read(fd, out + total, capacity - total);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    total += std::size_t(n);
  }
  close(fd);
  return total;
}

void AppendString(char** p, const char* s) {
  while (*s != '\0') *(*p)++ = *s++;
}

// "<dir>/raw.<pid>.<init ns><suffix>" into a buffer of 1200 bytes.
void LogPath(char* path, const char* suffix) {
  char* p = path;
  AppendString(&p, g_dir);
  AppendString(&p, "/raw.");
  AppendNumber(&p, std::uint64_t(getpid()));
  *p++ = '.';
  AppendNumber(&p, g_init_mono_ns);
  AppendString(&p, suffix);
  *p = '\0';
}

// Opens this image's raw log and writes its header. Caller holds g_fd_lock.
void OpenLogLocked() {
  static char path[1200];
  LogPath(path, ".log");
  const int saved_errno = errno;
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    g_recording = false;  // Nowhere to write: stop recording, keep running.
    errno = saved_errno;
    return;
  }
  static char exe[4096];
  static char cmdline[1 << 17];
  ssize_t exe_bytes = readlink("/proc/self/exe", exe, sizeof(exe));
  RawLogHeader header;
  header.pid = std::uint32_t(getpid());
  header.ppid = std::uint32_t(getppid());
  header.init_mono_ns = g_init_mono_ns;
  header.init_real_ns = g_init_real_ns;
  header.page_size = std::uint32_t(sysconf(_SC_PAGESIZE));
  header.exe_bytes = exe_bytes > 0 ? std::uint32_t(exe_bytes) : 0;
  header.cmdline_bytes = std::uint32_t(ReadFile("/proc/self/cmdline", cmdline, sizeof(cmdline)));
  header.forked = g_forked ? 1 : 0;
  header.init_ticks = g_init_ticks;
  WriteAll(fd, &header, sizeof(header));
  WriteAll(fd, exe, header.exe_bytes);
  WriteAll(fd, cmdline, header.cmdline_bytes);
  g_fd.store(fd, std::memory_order_release);
  errno = saved_errno;
}

bool Acquire(SpinLock& lock, bool try_only) {
  if (try_only) return lock.TryLock();
  lock.Lock();
  return true;
}

// The raw log's descriptor, opening it first if need be; -1 if there is
// none (or, with `try_only`, another flush is opening it).
int LogFd(bool try_only) {
  int fd = g_fd.load(std::memory_order_acquire);
  if (fd >= 0 || !g_recording || !Acquire(g_fd_lock, try_only)) return fd;
  if (g_fd.load(std::memory_order_relaxed) < 0 && g_recording) OpenLogLocked();
  fd = g_fd.load(std::memory_order_relaxed);
  g_fd_lock.Unlock();
  return fd;
}

// Writes a buffer's unwritten records to the log; the owner (`reset`) then
// starts the buffer again. Caller holds buffer->lock. From a signal handler
// (`try_only`) it never waits for a lock the interrupted code may hold.
void FlushLocked(ThreadBuffer* buffer, bool reset, bool try_only = false) {
  const std::uint32_t used = buffer->used.load(std::memory_order_acquire);
  if (used == buffer->flushed) {
    if (reset) buffer->used.store(buffer->flushed = 0, std::memory_order_relaxed);
    return;
  }
  const int saved_errno = errno;
  const int fd = LogFd(try_only);
  if (fd < 0 && !reset) return;  // Keep them for a later flush.
  // O_APPEND makes each write land whole even when threads flush together.
  if (fd >= 0) {
    RawRecord clock{};
    clock.kind = RawKind::kClock;
    clock.ticks = Now(CLOCK_MONOTONIC);
    clock.size = Ticks();
    WriteAll(fd, &clock, sizeof(clock));
    WriteAll(fd, buffer->records + buffer->flushed, (used - buffer->flushed) * sizeof(RawRecord));
  }
  buffer->flushed = used;
  if (reset) buffer->used.store(buffer->flushed = 0, std::memory_order_relaxed);
  errno = saved_errno;
}

// Copies /proc/self/maps next to the log, so that call sites can be named
// as module+offset offline (at exit and exec, when every module is loaded).
void SaveMaps() {
  if (g_fd.load(std::memory_order_acquire) < 0) return;
  const int saved_errno = errno;
  static char path[1200];
  static char chunk[1 << 14];
  LogPath(path, ".maps");
  int in = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  for (ssize_t n; in >= 0 && out >= 0 && (n = read(in, chunk, sizeof(chunk))) > 0;) {
    WriteAll(out, chunk, std::size_t(n));
  }
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  errno = saved_errno;
}

// Flushes every thread's buffer. From a signal handler, `try_only` skips
// buffers whose lock is held (the interrupted thread may hold it).
void FlushAll(bool try_only) {
  if (!Acquire(g_buffers_lock, try_only)) return;
  for (ThreadBuffer* b = g_buffers; b != nullptr; b = b->next) {
    if (!Acquire(b->lock, try_only)) continue;
    FlushLocked(b, /*reset=*/false, try_only);
    b->lock.Unlock();
  }
  g_buffers_lock.Unlock();
}

ThreadBuffer* AcquireBuffer() {
  g_buffers_lock.Lock();
  ThreadBuffer* buffer = nullptr;
  for (ThreadBuffer* b = g_buffers; b != nullptr && buffer == nullptr; b = b->next) {
    if (!b->owned.load(std::memory_order_relaxed)) buffer = b;
  }
  if (buffer == nullptr) {
    void* p = mmap(nullptr, sizeof(ThreadBuffer), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      buffer = new (p) ThreadBuffer;
      buffer->next = g_buffers;
      g_buffers = buffer;
    }
  }
  if (buffer != nullptr) buffer->owned.store(true, std::memory_order_relaxed);
  g_buffers_lock.Unlock();
  return buffer;
}

// Thread exit (pthread key destructor): flush and give the buffer back.
void ReleaseBuffer(void* arg) {
  ThreadBuffer* buffer = static_cast<ThreadBuffer*>(arg);
  buffer->lock.Lock();
  FlushLocked(buffer, /*reset=*/true);
  buffer->lock.Unlock();
  buffer->owned.store(false, std::memory_order_release);
  t_buffer = nullptr;
}

// Appends one record; returns its sequence number (0 if nothing recorded),
// which is the id of a new block (raw_log.h), so ids are never reused.
std::uint64_t Record(RawKind kind, std::uint64_t id, bool moved, std::uint64_t size,
                     Flavour flavour, std::uint8_t align_log2, const void* site) {
  ThreadBuffer* buffer = t_buffer;
  if (buffer == nullptr) {
    buffer = t_buffer = AcquireBuffer();
    if (buffer == nullptr) return 0;
    t_tid = std::uint32_t(syscall(SYS_gettid));
    if (g_have_key) pthread_setspecific(g_thread_key, buffer);
  }
  const std::uint64_t seq = g_seq.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t used = buffer->used.load(std::memory_order_relaxed);
  RawRecord& r = buffer->records[used];
  r.seq = seq;
  // Reading the clock costs more than the rest of the record in some VMs:
  // read it every 8th record of a thread (times are exact to 8 events).
  if ((t_records++ & 7) == 0) t_ticks = Ticks();
  r.ticks = t_ticks;
  r.id = id;
  r.size = size;
  r.site = reinterpret_cast<std::uintptr_t>(site);
  r.tid = t_tid;
  r.kind = kind;
  r.flavour = static_cast<std::uint8_t>(flavour);
  r.align_log2 = align_log2;
  r.moved = moved ? 1 : 0;
  buffer->used.store(used + 1, std::memory_order_release);  // Visible to exit flushes.
  if (used + 1 == kBufferRecords || g_direct) {
    buffer->lock.Lock();
    FlushLocked(buffer, /*reset=*/true);
    buffer->lock.Unlock();
  }
  return seq;
}

// log2(alignment) + 1, rounding up as glibc does; 0 for "the default".
std::uint8_t AlignCode(std::size_t alignment) {
  if (alignment == 0) return 0;
  std::uint8_t log2 = 0;
  while ((std::size_t{1} << log2) < alignment && log2 < 63) ++log2;
  return std::uint8_t(log2 + 1);
}

void RecordAlloc(void* p, std::size_t size, Flavour flavour, std::uint8_t align_code,
                 const void* site) {
  t_busy = true;
  const std::uint64_t id = Record(RawKind::kAlloc, 0, false, size, flavour, align_code, site);
  if (id != 0) g_map.Insert(reinterpret_cast<std::uintptr_t>(p), id);
  t_busy = false;
}

// Called before the real free: once the block is back in the allocator,
// another thread may get its address, and its ALLOC must come later.
void RecordFree(void* p, const void* site) {
  t_busy = true;
  const std::uint64_t id = g_map.Remove(reinterpret_cast<std::uintptr_t>(p));
  if (id != 0) Record(RawKind::kFree, id, false, 0, kMalloc, 0, site);
  t_busy = false;
}

// Finds the real functions. False while that is under way (in this thread,
// whose dlsym is allocating, or another): the caller uses the boot buffer.
bool Init() {
  int state = g_state.load(std::memory_order_acquire);
  if (state == 2) return true;
  if (state == 1 || !g_state.compare_exchange_strong(state, 1)) {
    return g_state.load(std::memory_order_acquire) == 2;
  }
  auto find = [](const char* name) { return dlsym(RTLD_NEXT, name); };
  real.malloc = reinterpret_cast<decltype(real.malloc)>(find("malloc"));
  real.calloc = reinterpret_cast<decltype(real.calloc)>(find("calloc"));
  real.realloc = reinterpret_cast<decltype(real.realloc)>(find("realloc"));
  real.reallocarray = reinterpret_cast<decltype(real.reallocarray)>(find("reallocarray"));
  real.free = reinterpret_cast<decltype(real.free)>(find("free"));
  real.memalign = reinterpret_cast<decltype(real.memalign)>(find("memalign"));
  real.posix_memalign = reinterpret_cast<decltype(real.posix_memalign)>(find("posix_memalign"));
  real.aligned_alloc = reinterpret_cast<decltype(real.aligned_alloc)>(find("aligned_alloc"));
  real.valloc = reinterpret_cast<decltype(real.valloc)>(find("valloc"));
  real.pvalloc = reinterpret_cast<decltype(real.pvalloc)>(find("pvalloc"));
  real.malloc_usable_size =
      reinterpret_cast<decltype(real.malloc_usable_size)>(find("malloc_usable_size"));
  real.exit_now = reinterpret_cast<decltype(real.exit_now)>(find("_exit"));
  real.execve = reinterpret_cast<decltype(real.execve)>(find("execve"));
  real.execv = reinterpret_cast<decltype(real.execv)>(find("execv"));
  real.execvp = reinterpret_cast<decltype(real.execvp)>(find("execvp"));
  real.execvpe = reinterpret_cast<decltype(real.execvpe)>(find("execvpe"));
  real.fexecve = reinterpret_cast<decltype(real.fexecve)>(find("fexecve"));
  if (real.malloc == nullptr || real.free == nullptr || real.calloc == nullptr ||
      real.realloc == nullptr) {
    static const char kMessage[] = "librecord.so: cannot find the real malloc; not recording\n";
    WriteAll(2, kMessage, sizeof(kMessage) - 1);
    syscall(SYS_exit_group, 127);
  }
  // getenv does not allocate; the environment is set up before any code runs.
  const char* dir = getenv(kDirEnv);
  const char* root = getenv(kRootPidEnv);
  const char* follow = getenv(kFollowEnv);
  g_follow = follow != nullptr && follow[0] == '1';
  const bool is_root =
      root != nullptr && std::strtoul(root, nullptr, 10) == std::uint64_t(getpid());
  if (dir != nullptr && dir[0] != '\0' && std::strlen(dir) < sizeof(g_dir) &&
      (g_follow || is_root)) {
    std::strcpy(g_dir, dir);
    g_init_mono_ns = Now(CLOCK_MONOTONIC);
    g_init_real_ns = Now(CLOCK_REALTIME);
    g_init_ticks = Ticks();
    g_recording = true;
  }
  g_state.store(2, std::memory_order_release);
  return true;
}

// True when the hook should record (and the real functions are known).
inline bool ShouldRecord() { return g_recording && !t_busy; }

// --- fork, exit and fatal signals. ---

void BeforeFork() {
  t_busy = true;
  g_buffers_lock.Lock();
  for (ThreadBuffer* b = g_buffers; b != nullptr; b = b->next) b->lock.Lock();
  g_fd_lock.Lock();
}

void AfterForkParent() {
  g_fd_lock.Unlock();
  for (ThreadBuffer* b = g_buffers; b != nullptr; b = b->next) b->lock.Unlock();
  g_buffers_lock.Unlock();
  t_busy = false;
}

// The child starts its own log. Its buffers hold copies of the parent's
// unflushed records, which the parent writes itself: drop them. Only this
// thread survives fork, so every other buffer is free for reuse.
void AfterForkChild() {
  if (g_fd.load(std::memory_order_relaxed) >= 0) close(g_fd.load(std::memory_order_relaxed));
  g_fd.store(-1, std::memory_order_relaxed);
  g_forked = true;
  g_recording = g_recording && g_follow;
  g_init_mono_ns = Now(CLOCK_MONOTONIC);
  g_init_real_ns = Now(CLOCK_REALTIME);
  g_init_ticks = Ticks();
  g_fd_lock.Unlock();
  for (ThreadBuffer* b = g_buffers; b != nullptr; b = b->next) {
    b->used.store(b->flushed = 0, std::memory_order_relaxed);
    b->owned.store(b == t_buffer, std::memory_order_relaxed);
    b->lock.Unlock();
  }
  g_buffers_lock.Unlock();
  t_tid = std::uint32_t(syscall(SYS_gettid));
  t_busy = false;
}

// After the final flush, late events (other libraries' destructors) are
// written one by one, so nothing is lost.
__attribute__((destructor)) void AtExit() {
  FlushAll(false);
  SaveMaps();
  g_direct = true;
}

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE,  SIGILL,  SIGABRT, SIGTERM,
                                 SIGINT,  SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGXCPU};

void OnFatalSignal(int sig) {
  const int saved_errno = errno;
  FlushAll(true);
  // SA_RESETHAND restored the default action: re-raise to die of the signal
  // (also for faults: a SIGSEGV may have come from kill(2)).
  raise(sig);
  errno = saved_errno;
}

__attribute__((constructor)) void Start() {
  Init();
  if (!g_recording && !g_follow) return;
  t_busy = true;
  g_have_key = pthread_key_create(&g_thread_key, ReleaseBuffer) == 0;
  pthread_atfork(BeforeFork, AfterForkParent, AfterForkChild);
  // Only where the program would die anyway: a handler or an ignored signal
  // that the program inherited stays as it is.
  for (int sig : kFatalSignals) {
    struct sigaction old;
    if (sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;
    struct sigaction action;
    std::memset(&action, 0, sizeof(action));
    action.sa_handler = OnFatalSignal;
    action.sa_flags = SA_RESETHAND | SA_NODEFER | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, nullptr);
  }
  t_busy = false;
}

// Flushes before the image is replaced (exec keeps no memory).
void BeforeExec() {
  if (g_state.load(std::memory_order_acquire) != 2) return;
  FlushAll(false);
  SaveMaps();
}

}  // namespace
}  // namespace capture

using capture::g_map;
using capture::Init;
using capture::IsBoot;
using capture::real;
using capture::RecordAlloc;
using capture::RecordFree;
using capture::ShouldRecord;

#define SITE __builtin_return_address(0)

HOOK void* malloc(size_t size) {
  if (!Init()) return capture::BootAlloc(size, 16);
  void* p = real.malloc(size);
  if (p != nullptr && ShouldRecord()) RecordAlloc(p, size, capture::kMalloc, 0, SITE);
  return p;
}

HOOK void* calloc(size_t count, size_t size) {
  if (!Init()) {
    size_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes)) return nullptr;
    return capture::BootAlloc(bytes, 16);
  }
  void* p = real.calloc(count, size);
  if (p != nullptr && ShouldRecord()) RecordAlloc(p, count * size, capture::kCalloc, 0, SITE);
  return p;
}

HOOK void free(void* p) {
  if (p == nullptr || IsBoot(p)) return;  // The boot buffer is never reused.
  if (!Init()) return;                    // Unreachable: only boot blocks exist yet.
  if (ShouldRecord()) RecordFree(p, SITE);
  real.free(p);
}

namespace capture {
namespace {

// realloc and reallocarray: the old address leaves the map before the real
// call (it may be reused by another thread the moment it returns) and comes
// back if the call fails.
void* Resize(void* p, size_t size, const void* site, void* (*call)(void*, size_t, size_t),
             size_t count, size_t each) {
  if (!ShouldRecord()) return call(p, count, each);
  t_busy = true;
  const std::uint64_t id = g_map.Remove(reinterpret_cast<std::uintptr_t>(p));
  void* q = call(p, count, each);
  if (q == nullptr && size != 0) {
    if (id != 0) g_map.Insert(reinterpret_cast<std::uintptr_t>(p), id);  // Failed: unchanged.
  } else if (q == nullptr) {
    if (id != 0) Record(RawKind::kFree, id, false, 0, kMalloc, 0, site);  // glibc: size 0 frees.
  } else if (id == 0) {
    // A block from before recording (or a fork parent's): it starts here.
    const std::uint64_t new_id = Record(RawKind::kAlloc, 0, false, size, kRealloc, 0, site);
    if (new_id != 0) g_map.Insert(reinterpret_cast<std::uintptr_t>(q), new_id);
  } else {
    const std::uint64_t new_id =
        Record(RawKind::kRealloc, id, /*moved=*/q != p, size, kMalloc, 0, site);
    if (new_id != 0) g_map.Insert(reinterpret_cast<std::uintptr_t>(q), q == p ? id : new_id);
  }
  t_busy = false;
  return q;
}

void* CallRealloc(void* p, size_t count, size_t) { return real.realloc(p, count); }
void* CallReallocArray(void* p, size_t count, size_t each) {
  return real.reallocarray(p, count, each);
}

// realloc of a boot block: move it to the real heap (boot blocks stay put).
void* MoveBootBlock(void* p, size_t size) {
  void* q = malloc(size);
  if (q != nullptr) std::memcpy(q, p, BootSize(p) < size ? BootSize(p) : size);
  return q;
}

}  // namespace
}  // namespace capture

HOOK void* realloc(void* p, size_t size) {
  if (!Init()) {
    void* q = capture::BootAlloc(size, 16);
    if (q != nullptr && p != nullptr)
      std::memcpy(q, p, capture::BootSize(p) < size ? capture::BootSize(p) : size);
    return q;
  }
  if (IsBoot(p)) return capture::MoveBootBlock(p, size);
  if (p == nullptr) {
    void* q = real.realloc(nullptr, size);
    if (q != nullptr && ShouldRecord()) RecordAlloc(q, size, capture::kRealloc, 0, SITE);
    return q;
  }
  return capture::Resize(p, size, SITE, capture::CallRealloc, size, 0);
}

HOOK void* reallocarray(void* p, size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (!Init() || IsBoot(p) || p == nullptr) return realloc(p, bytes);
  if (real.reallocarray == nullptr) return realloc(p, bytes);
  return capture::Resize(p, bytes, SITE, capture::CallReallocArray, count, size);
}

HOOK void* memalign(size_t alignment, size_t size) {
  if (!Init()) return capture::BootAlloc(size, alignment);
  void* p = real.memalign(alignment, size);
  if (p != nullptr && ShouldRecord()) {
    RecordAlloc(p, size, capture::kMemalign, capture::AlignCode(alignment), SITE);
  }
  return p;
}

HOOK int posix_memalign(void** out, size_t alignment, size_t size) {
  if (!Init()) {
    *out = capture::BootAlloc(size, alignment);
    return *out == nullptr ? ENOMEM : 0;
  }
  const int result = real.posix_memalign(out, alignment, size);
  if (result == 0 && ShouldRecord()) {
    RecordAlloc(*out, size, capture::kPosixMemalign, capture::AlignCode(alignment), SITE);
  }
  return result;
}

HOOK void* aligned_alloc(size_t alignment, size_t size) {
  if (!Init()) return capture::BootAlloc(size, alignment);
  void* p = real.aligned_alloc(alignment, size);
  if (p != nullptr && ShouldRecord()) {
    RecordAlloc(p, size, capture::kAlignedAlloc, capture::AlignCode(alignment), SITE);
  }
  return p;
}

HOOK void* valloc(size_t size) {
  if (!Init()) return capture::BootAlloc(size, 4096);
  void* p = real.valloc(size);
  if (p != nullptr && ShouldRecord()) RecordAlloc(p, size, capture::kValloc, 0, SITE);
  return p;
}

HOOK void* pvalloc(size_t size) {
  if (!Init()) return capture::BootAlloc(size, 4096);
  void* p = real.pvalloc(size);
  if (p != nullptr && ShouldRecord()) RecordAlloc(p, size, capture::kPvalloc, 0, SITE);
  return p;
}

HOOK size_t malloc_usable_size(void* p) {
  if (p == nullptr) return 0;
  if (IsBoot(p)) return capture::BootSize(p);
  if (!Init()) return 0;
  const size_t usable = real.malloc_usable_size(p);
  if (ShouldRecord()) {
    capture::t_busy = true;
    const std::uint64_t id = g_map.Find(reinterpret_cast<std::uintptr_t>(p));
    if (id != 0) {
      capture::Record(capture::RawKind::kUsableSize, id, false, usable, capture::kMalloc, 0, SITE);
    }
    capture::t_busy = false;
  }
  return usable;
}

// --- Exits and execs that skip the destructors: flush first. ---

HOOK void _exit(int status) {
  Init();
  capture::BeforeExec();
  real.exit_now(status);
  __builtin_unreachable();
}

HOOK int execve(const char* path, char* const argv[], char* const envp[]) {
  Init();
  capture::BeforeExec();
  return real.execve(path, argv, envp);
}

HOOK int execv(const char* path, char* const argv[]) {
  Init();
  capture::BeforeExec();
  return real.execv(path, argv);
}

HOOK int execvp(const char* file, char* const argv[]) {
  Init();
  capture::BeforeExec();
  return real.execvp(file, argv);
}

HOOK int execvpe(const char* file, char* const argv[], char* const envp[]) {
  Init();
  capture::BeforeExec();
  return real.execvpe(file, argv, envp);
}

HOOK int fexecve(int fd, char* const argv[], char* const envp[]) {
  Init();
  capture::BeforeExec();
  return real.fexecve(fd, argv, envp);
}

// The execl family, in terms of the above (argv built on the stack).
#define COLLECT_ARGS(first, argv, envp_out)                              \
  va_list ap;                                                            \
  va_start(ap, first);                                                   \
  size_t argc = 1;                                                       \
  {                                                                      \
    va_list count;                                                       \
    va_copy(count, ap);                                                  \
    while (va_arg(count, char*) != nullptr) ++argc;                      \
    va_end(count);                                                       \
  }                                                                      \
  char** argv = static_cast<char**>(alloca((argc + 1) * sizeof(char*))); \
  argv[0] = const_cast<char*>(first);                                    \
  for (size_t i = 1; i <= argc; ++i) argv[i] = va_arg(ap, char*);        \
  envp_out;                                                              \
  va_end(ap)

HOOK int execl(const char* path, const char* arg, ...) {
  COLLECT_ARGS(arg, argv, (void)0);
  return execv(path, argv);
}

HOOK int execlp(const char* file, const char* arg, ...) {
  COLLECT_ARGS(arg, argv, (void)0);
  return execvp(file, argv);
}

HOOK int execle(const char* path, const char* arg, ...) {
  char* const* envp;
  COLLECT_ARGS(arg, argv, envp = va_arg(ap, char* const*));
  return execve(path, argv, envp);
}
