#include "traces/capture/record.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "replay/bundled_file.h"
#include "replay/trace_io.h"
#include "traces/capture/raw_log.h"

namespace capture {
namespace {

constexpr const char* kLibraryRunfile = "traces/capture/librecord.so";

// Checks that `path` can be created or overwritten, leaving nothing behind.
absl::Status CheckWritable(const std::string& path) {
  const bool existed = access(path.c_str(), F_OK) == 0;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": cannot write the trace: ", std::strerror(errno)));
  }
  close(fd);
  if (!existed) unlink(path.c_str());
  return absl::OkStatus();
}

// A temporary directory that removes itself.
class TempDir {
 public:
  static absl::StatusOr<TempDir> Make() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/workbench-record.XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(
          absl::StrCat(pattern, ": cannot make a temporary directory: ", std::strerror(errno)));
    }
    return TempDir(pattern);
  }
  TempDir(TempDir&& other) : path_(std::move(other.path_)) { other.path_.clear(); }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// In the child: the environment that makes librecord record this pid.
void PrepareChildEnvironment(const RecordOptions& options, const std::string& library,
                             const std::string& dir) {
  const char* preload = std::getenv("LD_PRELOAD");
  const std::string value =
      preload != nullptr && *preload != '\0' ? absl::StrCat(library, ":", preload) : library;
  setenv("LD_PRELOAD", value.c_str(), 1);
  setenv(kDirEnv, dir.c_str(), 1);
  setenv(kRootPidEnv, std::to_string(getpid()).c_str(), 1);
  setenv(kFollowEnv, options.follow_forks ? "1" : "0", 1);
  setenv(kSitesEnv, options.sites ? "1" : "0", 1);
}

// Runs the command and waits for it. A failed exec comes back through a
// close-on-exec pipe as its errno.
absl::StatusOr<RecordResult> Run(const RecordOptions& options, const std::string& library,
                                 const std::string& dir, pid_t* child_pid) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<char*> argv;
  for (const std::string& arg : options.command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  // Like time(1): the terminal's interrupt goes to the command, and we
  // live on to write its trace.
  struct sigaction ignore, old_int, old_quit;
  std::memset(&ignore, 0, sizeof(ignore));
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGQUIT, &ignore, &old_quit);
  const pid_t pid = fork();
  if (pid == 0) {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
    close(pipe_fds[0]);
    PrepareChildEnvironment(options, library, dir);
    execvp(argv[0], argv.data());
    const int error = errno;
    (void)!write(pipe_fds[1], &error, sizeof(error));
    _exit(127);
  }
  close(pipe_fds[1]);
  RecordResult result;
  absl::Status status;
  if (pid < 0) {
    status = absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  } else {
    int exec_error = 0;
    ssize_t n;
    while ((n = read(pipe_fds[0], &exec_error, sizeof(exec_error))) < 0 && errno == EINTR) {
    }
    int wait_status = 0;
    while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    if (n == sizeof(exec_error)) {
      const std::string message =
          absl::StrCat("cannot run '", options.command[0], "': ", std::strerror(exec_error));
      status = exec_error == ENOENT ? absl::NotFoundError(message)
                                    : absl::PermissionDeniedError(message);
    } else if (WIFSIGNALED(wait_status)) {
      result.signal = WTERMSIG(wait_status);
      result.exit_code = 128 + result.signal;
    } else {
      result.exit_code = WEXITSTATUS(wait_status);
    }
  }
  close(pipe_fds[0]);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);
  *child_pid = pid;
  if (!status.ok()) return status;
  return result;
}

// An empty trace for a command that recorded nothing.
absl::Status WriteEmptyTrace(const RecordOptions& options, TraceSummary* summary) {
  traces::TraceHeader header;
  header.set_program(options.command[0]);
  for (const std::string& arg : options.command) header.add_command_line(arg);
  header.set_capture_tool("workbench record");
  header.add_notes("nothing recorded: no allocations, or a statically linked program");
  absl::StatusOr<std::unique_ptr<replay::TraceWriter>> writer =
      replay::TraceWriter::Open(options.output, header);
  if (!writer.ok()) return writer.status();
  summary->path = options.output;
  summary->program = options.command[0];
  return (*writer)->Close();
}

}  // namespace

std::string ChildTracePath(const std::string& output, std::uint32_t pid, int image) {
  const std::string tag = image == 0 ? absl::StrCat(".", pid) : absl::StrCat(".", pid, "-", image);
  for (const char* ext : {".trace.zst", ".trace", ".zst"}) {
    if (absl::EndsWith(output, ext)) {
      return absl::StrCat(output.substr(0, output.size() - std::strlen(ext)), tag, ext);
    }
  }
  return absl::StrCat(output, tag);
}

absl::StatusOr<std::string> FindRecordLibrary() {
  return replay::FindBundledFile(kLibraryRunfile, "WORKBENCH_RECORD_LIB");
}

absl::StatusOr<RecordResult> RecordCommand(const RecordOptions& options) {
  if (options.command.empty() || options.command[0].empty()) {
    return absl::InvalidArgumentError("expected a command to record after '--'");
  }
  if (absl::Status s = CheckWritable(options.output); !s.ok()) return s;
  std::string library = options.library;
  if (library.empty()) {
    absl::StatusOr<std::string> found = FindRecordLibrary();
    if (!found.ok()) return found.status();
    library = *found;
  }
  // The preload needs an absolute path: the command may change directory.
  library = std::filesystem::absolute(library).string();
  absl::StatusOr<TempDir> dir = TempDir::Make();
  if (!dir.ok()) return dir.status();
  pid_t pid = 0;
  absl::StatusOr<RecordResult> result = Run(options, library, dir->path(), &pid);
  if (!result.ok()) return result.status();

  absl::StatusOr<std::vector<RawLogInfo>> logs = ListRawLogs(dir->path());
  if (!logs.ok()) return logs.status();
  // The main trace is the last image of the process we started: what the
  // command finally became (`env X prog`, `sh -c 'exec prog'` record prog).
  const RawLogInfo* main_log = nullptr;
  std::map<std::uint32_t, int> images;  // pid -> images seen.
  for (const RawLogInfo& log : *logs) {
    ++images[log.header.pid];
    if (log.header.pid == std::uint32_t(pid)) main_log = &log;
  }
  const ConvertOptions convert{.sites = options.sites};
  result->traces.emplace_back();
  if (main_log == nullptr) {
    result->warning = absl::StrCat("'", options.command[0],
                                   "' recorded no allocations (a statically linked program "
                                   "cannot be recorded with LD_PRELOAD); wrote an empty trace");
    if (absl::Status s = WriteEmptyTrace(options, &result->traces[0]); !s.ok()) return s;
  } else {
    absl::StatusOr<TraceSummary> summary = ConvertRawLog(*main_log, options.output, convert);
    if (!summary.ok()) return summary.status();
    result->traces[0] = *summary;
  }
  if (!options.follow_forks) return result;
  std::map<std::uint32_t, int> image_number;
  for (const RawLogInfo& log : *logs) {
    const int image = ++image_number[log.header.pid];
    if (&log == main_log) continue;
    const std::string path =
        ChildTracePath(options.output, log.header.pid, images[log.header.pid] > 1 ? image : 0);
    absl::StatusOr<TraceSummary> summary = ConvertRawLog(log, path, convert);
    if (!summary.ok()) return summary.status();
    result->traces.push_back(*summary);
  }
  return result;
}

}  // namespace capture
