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
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include <algorithm>
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
bool g_sites = false;      // Events carry their call site (a kSite word).
bool g_forked = false;
// The raw log, opened on the first flush and published (release) only once
// its header is written.
std::atomic<int> g_fd{-1};
SpinLock g_fd_lock;
std::uint64_t g_init_mono_ns = 0;
std::uint64_t g_init_real_ns = 0;
std::uint64_t g_init_ticks = 0;
std::uint64_t g_key_base_ticks = 0;  // Order key 0 (raw_log.h); kept by fork children.
IdMap g_map;
char g_dir[1024];
pthread_key_t g_thread_key;
bool g_have_key = false;

// Each thread appends to its own buffer without a lock: only the owner
// writes words, keys and `used`. Flushes (by the owner when full, and by the
// exit and signal paths for every thread) hold `lock` and write the words
// from `flushed` to the published end; only the owner's flush starts the
// buffer again. A buffer outlives its thread and goes to the next new
// thread with its index and key, so that raw ids (key, index) are never
// made twice.
constexpr std::uint32_t kBufferWords = 16384;  // 128 KiB.
constexpr std::uint32_t kClockEvery = 8;       // Events between readings of the clock.
struct ThreadBuffer {
  SpinLock lock;
  std::atomic<bool> owned{false};
  // (key of the last event written) << 16 | words written: what a flush by
  // another thread may take, in one release store.
  std::atomic<std::uint64_t> published{0};
  std::uint32_t used = 0;         // Words written (the owner's copy).
  std::uint32_t flushed = 0;      // Words flushed; guarded by `lock`.
  std::uint64_t flushed_key = 0;  // The key before words[flushed]; guarded by `lock`.
  std::uint64_t written_key = 0;  // The key of the last event written.
  std::uint64_t key = 0;          // The last order key given.
  std::uint32_t index = 0;        // 1, 2, ...: the low bits of its raw ids.
  std::uint32_t tid = 0;          // The owner's kernel thread id.
  std::uint32_t until_clock = 1;  // Events until the clock is read again.
  ThreadBuffer* next = nullptr;
  // Room for one event past kBufferWords: a buffer is flushed once full.
  std::uint64_t words[kBufferWords + kMaxEventWords];
};
static_assert(kBufferWords + kMaxEventWords < (1u << 16));
ThreadBuffer* g_buffers = nullptr;  // Every buffer ever made (reused, never freed).
std::uint32_t g_buffer_count = 0;   // Guarded by g_buffers_lock.
SpinLock g_buffers_lock;
// A buffer is flushed when it holds this many words: 1 after the exit
// flush, so that later events (other libraries' destructors) are written
// at once.
std::uint32_t g_flush_at = kBufferWords;

TLS ThreadBuffer* t_buffer;
TLS bool t_busy;  // Inside a hook's own work: pass everything through.

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

// The record clock in key units (raw_log.h); 0 before the base, which
// another core's clock may be, by a little.
inline std::uint64_t ClockKey() {
  const std::int64_t ticks = std::int64_t(Ticks() - g_key_base_ticks);
  return std::uint64_t(std::max<std::int64_t>(ticks, 0)) >> kKeyTickShift;
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

// A chunk header and its words in one writev, so that with O_APPEND they
// land together even when threads flush at once; after a short write the
// rest follows with write(2).
void WriteChunk(int fd, const RawChunk& chunk, const std::uint64_t* words) {
  iovec parts[2] = {{const_cast<RawChunk*>(&chunk), sizeof(chunk)},
                    {const_cast<std::uint64_t*>(words), chunk.words * sizeof(*words)}};
  ssize_t n;
  do {
    n = writev(fd, parts, 2);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return;
  for (const iovec& part : parts) {
    const std::size_t done = std::min(std::size_t(n), part.iov_len);
    WriteAll(fd, static_cast<const char*>(part.iov_base) + done, part.iov_len - done);
    n -= ssize_t(done);
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
  header.key_base_ticks = g_key_base_ticks;
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

// The owner starts its buffer again (after a flush, or in a fork child).
void ResetBuffer(ThreadBuffer* buffer) {
  buffer->used = buffer->flushed = 0;
  buffer->flushed_key = buffer->written_key;
  buffer->published.store(buffer->written_key << 16, std::memory_order_relaxed);
}

// Writes a buffer's unwritten words to the log; the owner (`reset`) then
// starts the buffer again. Caller holds buffer->lock. From a signal handler
// (`try_only`) it never waits for a lock the interrupted code may hold.
void FlushLocked(ThreadBuffer* buffer, bool reset, bool try_only = false) {
  const std::uint64_t published = buffer->published.load(std::memory_order_acquire);
  const std::uint32_t used = std::uint32_t(published & 0xffff);
  if (used != buffer->flushed) {
    const int saved_errno = errno;
    const int fd = LogFd(try_only);
    if (fd < 0 && !reset) return;  // Keep them for a later flush.
    if (fd >= 0) {
      RawChunk chunk;
      chunk.tid = buffer->tid;
      chunk.buffer = buffer->index;
      chunk.words = used - buffer->flushed;
      chunk.base_key = buffer->flushed_key;
      chunk.mono_ns = Now(CLOCK_MONOTONIC);
      chunk.ticks = Ticks();
      WriteChunk(fd, chunk, buffer->words + buffer->flushed);
    }
    buffer->flushed = used;
    buffer->flushed_key = published >> 16;
    errno = saved_errno;
  }
  if (reset) ResetBuffer(buffer);
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

// The calling thread's buffer: one left by a thread that ended, or a new
// one. Null if there is no memory, or 65535 buffers are in use.
__attribute__((noinline)) ThreadBuffer* AcquireBuffer() {
  g_buffers_lock.Lock();
  ThreadBuffer* buffer = nullptr;
  for (ThreadBuffer* b = g_buffers; b != nullptr && buffer == nullptr; b = b->next) {
    // Acquire: the key that the buffer's last owner left.
    if (!b->owned.load(std::memory_order_acquire)) buffer = b;
  }
  if (buffer == nullptr && g_buffer_count < (1u << kBufferBits) - 1) {
    void* p = mmap(nullptr, sizeof(ThreadBuffer), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      buffer = new (p) ThreadBuffer;
      buffer->index = ++g_buffer_count;
      buffer->next = g_buffers;
      g_buffers = buffer;
    }
  }
  if (buffer != nullptr) {
    buffer->tid = std::uint32_t(syscall(SYS_gettid));
    buffer->until_clock = 1;  // A new thread's first key comes from the clock.
    buffer->owned.store(true, std::memory_order_relaxed);
  }
  g_buffers_lock.Unlock();
  t_buffer = buffer;
  if (buffer != nullptr && g_have_key) pthread_setspecific(g_thread_key, buffer);
  return buffer;
}

inline ThreadBuffer* MyBuffer() {
  ThreadBuffer* buffer = t_buffer;
  return buffer != nullptr ? buffer : AcquireBuffer();
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

__attribute__((noinline)) void FlushOwn(ThreadBuffer* buffer) {
  buffer->lock.Lock();
  FlushLocked(buffer, /*reset=*/true);
  buffer->lock.Unlock();
}

// The order key of this thread's next event, which must come after the
// event whose key is `after` (raw_log.h). No atomics: the ordering across
// threads comes through the id map, whose slots hold keys.
inline std::uint64_t NextKey(ThreadBuffer* buffer, std::uint64_t after) {
  std::uint64_t key = buffer->key + 1;
  // Reading the clock costs more than the rest of an event in some VMs
  // (~10 ns here), so only every kClockEvery events.
  if (--buffer->until_clock == 0) {
    buffer->until_clock = kClockEvery;
    key = std::max(key, ClockKey());
  }
  key = std::max(key, after + 1);
  buffer->key = key;
  return key;
}

// Raises the key just taken to come after `after` as well.
inline std::uint64_t RaiseKey(ThreadBuffer* buffer, std::uint64_t after) {
  buffer->key = std::max(buffer->key, after + 1);
  return buffer->key;
}

inline bool IsLive(std::uint64_t slot) { return BufferOf(slot) != 0; }

// Blocks below this come from the allocator's heaps, among other blocks
// (larger ones may be mmap'd alone): their map leaves are dense (IdMap::Slot).
constexpr std::size_t kSmallBlock = 64 << 10;
inline std::uint64_t Tombstone(std::uint64_t key) { return RawId(key, 0); }

inline std::uintptr_t Address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// Appends an event (raw_log.h), publishes it to exit and signal flushes,
// and flushes a full buffer.
__attribute__((always_inline)) inline void Append(ThreadBuffer* buffer, RawEvent e,
                                                  const void* site) {
  e.site = Address(site);
  std::uint64_t* end =
      EncodeRawEvent(buffer->words + buffer->used, buffer->written_key, e, g_sites);
  buffer->used = std::uint32_t(end - buffer->words);
  buffer->written_key = e.key;
  buffer->published.store(e.key << 16 | buffer->used, std::memory_order_release);
  if (buffer->used >= g_flush_at) FlushOwn(buffer);
}

// log2(alignment) + 1, rounding up as glibc does; 0 for "the default".
std::uint8_t AlignCode(std::size_t alignment) {
  if (alignment == 0) return 0;
  std::uint8_t log2 = 0;
  while ((std::size_t{1} << log2) < alignment && log2 < 63) ++log2;
  return std::uint8_t(log2 + 1);
}

// The block's raw id goes into the map; its key comes after the last free
// at the address (the tombstone), so that a reused address is ordered.
void RecordAlloc(void* p, std::size_t size, Flavour flavour, std::uint8_t align_code,
                 const void* site) {
  t_busy = true;
  if (ThreadBuffer* buffer = MyBuffer(); buffer != nullptr) {
    std::atomic<std::uint64_t>* slot =
        g_map.Slot(Address(p), /*create=*/true, /*dense=*/size < kSmallBlock);
    const std::uint64_t key =
        NextKey(buffer, slot != nullptr ? KeyOf(slot->load(std::memory_order_relaxed)) : 0);
    if (slot != nullptr) slot->store(RawId(key, buffer->index), std::memory_order_relaxed);
    Append(buffer,
           {.kind = RawKind::kAlloc,
            .key = key,
            .size = size,
            .flavour = std::uint8_t(flavour),
            .align_code = align_code},
           site);
  }
  t_busy = false;
}

// Called before the real free: once the block is back in the allocator,
// another thread may get its address, and must find the tombstone.
void RecordFree(void* p, const void* site) {
  t_busy = true;
  std::atomic<std::uint64_t>* slot = g_map.Slot(Address(p), /*create=*/false);
  const std::uint64_t id = slot != nullptr ? slot->load(std::memory_order_relaxed) : 0;
  ThreadBuffer* buffer;
  if (IsLive(id) && (buffer = MyBuffer()) != nullptr) {
    const std::uint64_t key = NextKey(buffer, KeyOf(id));
    slot->store(Tombstone(key), std::memory_order_relaxed);
    Append(buffer, {.kind = RawKind::kFree, .key = key, .block = id}, site);
  }
  t_busy = false;
}

// malloc_usable_size: counted in a header note, ordered after the block.
void RecordUsableSize(void* p, const void* site) {
  t_busy = true;
  std::atomic<std::uint64_t>* slot = g_map.Slot(Address(p), /*create=*/false);
  const std::uint64_t id = slot != nullptr ? slot->load(std::memory_order_relaxed) : 0;
  ThreadBuffer* buffer;
  if (IsLive(id) && (buffer = MyBuffer()) != nullptr) {
    Append(buffer, {.kind = RawKind::kUsableSize, .key = NextKey(buffer, KeyOf(id)), .block = id},
           site);
  }
  t_busy = false;
}

// Finds the real functions. False while that is under way (in this thread,
// whose dlsym is allocating, or another): the caller uses the boot buffer.
__attribute__((noinline)) bool InitSlow() {
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
  const char* sites = getenv(kSitesEnv);
  g_sites = sites != nullptr && sites[0] == '1';
  if (dir != nullptr && dir[0] != '\0' && std::strlen(dir) < sizeof(g_dir) &&
      (g_follow || is_root)) {
    std::strcpy(g_dir, dir);
    g_init_mono_ns = Now(CLOCK_MONOTONIC);
    g_init_real_ns = Now(CLOCK_REALTIME);
    g_key_base_ticks = g_init_ticks = Ticks();
    g_recording = true;
  }
  g_state.store(2, std::memory_order_release);
  return true;
}

inline bool Init() { return g_state.load(std::memory_order_acquire) == 2 || InitSlow(); }

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
// thread survives fork, so every other buffer is free for reuse. Buffers
// keep their keys: the child's raw ids differ from the inherited ones.
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
    ResetBuffer(b);
    b->owned.store(b == t_buffer, std::memory_order_relaxed);
    b->lock.Unlock();
  }
  g_buffers_lock.Unlock();
  if (t_buffer != nullptr) {
    t_buffer->tid = std::uint32_t(syscall(SYS_gettid));
    t_buffer->until_clock = 1;
  }
  t_busy = false;
}

// After the final flush, late events (other libraries' destructors) are
// written one by one, so nothing is lost.
__attribute__((destructor)) void AtExit() {
  FlushAll(false);
  SaveMaps();
  g_flush_at = 1;
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

// realloc and reallocarray. The old address gets its tombstone before the
// real call (another thread may be given it the moment the call returns)
// and its id back if the call fails. A block that stays in place gets a new
// raw id too, so that its free is ordered after the realloc.
void* Resize(void* p, size_t size, const void* site, void* (*call)(void*, size_t, size_t),
             size_t count, size_t each) {
  if (!ShouldRecord()) return call(p, count, each);
  t_busy = true;
  ThreadBuffer* buffer = MyBuffer();
  if (buffer == nullptr) {
    void* q = call(p, count, each);
    t_busy = false;
    return q;
  }
  std::atomic<std::uint64_t>* slot = g_map.Slot(Address(p), /*create=*/false);
  const std::uint64_t id = slot != nullptr ? slot->load(std::memory_order_relaxed) : 0;
  const bool known = IsLive(id);
  std::uint64_t key = NextKey(buffer, KeyOf(id));
  if (known) slot->store(Tombstone(key), std::memory_order_relaxed);
  void* q = call(p, count, each);
  if (q == nullptr && size != 0) {
    if (known) slot->store(id, std::memory_order_relaxed);  // Failed: unchanged.
  } else if (q == nullptr) {
    if (known) Append(buffer, {.kind = RawKind::kFree, .key = key, .block = id}, site);  // Freed.
  } else {
    std::atomic<std::uint64_t>* new_slot =
        q == p && slot != nullptr ? slot
                                  : g_map.Slot(Address(q), /*create=*/true, size < kSmallBlock);
    if (q != p && new_slot != nullptr) {
      key = RaiseKey(buffer, KeyOf(new_slot->load(std::memory_order_relaxed)));
    }
    if (new_slot != nullptr) new_slot->store(RawId(key, buffer->index), std::memory_order_relaxed);
    if (known) {
      Append(buffer,
             {.kind = RawKind::kRealloc, .key = key, .size = size, .block = id, .moved = q != p},
             site);
    } else {
      // A block from before recording (or a fork parent's): it starts here.
      Append(buffer,
             {.kind = RawKind::kAlloc, .key = key, .size = size, .flavour = std::uint8_t(kRealloc)},
             site);
    }
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
  if (ShouldRecord()) capture::RecordUsableSize(p, SITE);
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
