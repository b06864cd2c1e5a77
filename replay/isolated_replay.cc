#include "replay/isolated_replay.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "replay/bundled_file.h"
#include "replay/event_pipe.h"
#include "replay/system_subjects.h"

namespace replay {
namespace {

std::vector<std::string> ChildArguments(const std::string& child, const std::string& policy,
                                        const std::string& trace_path,
                                        const EngineOptions& options) {
  return {child,
          policy,
          trace_path,
          absl::StrCat("--verify=", options.verify),
          absl::StrCat("--lenient=", options.lenient),
          absl::StrCat("--max_size=", options.max_size),
          absl::StrCat("--samples=", options.samples)};
}

// The environment for the child: ours, with LD_PRELOAD set to `preload`
// (or left alone when empty).
std::vector<std::string> ChildEnvironment(const std::string& preload) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!preload.empty() && absl::StartsWith(*e, "LD_PRELOAD=")) continue;
    env.push_back(*e);
  }
  if (!preload.empty()) env.push_back("LD_PRELOAD=" + preload);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string ReadAll(int fd) {
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace

PolicyRun ReplayHere(const std::string& trace_path, const std::string& policy,
                     const EngineOptions& options, const ProgressFn& progress) {
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = TraceReader::Open(trace_path);
  if (!reader.ok()) return FailedRun(policy, reader.status());
  TraceReaderSource source(**reader, progress);
  return ReplayPolicy(source, policy, options);
}

PolicyRun ReplayInChild(const std::string& trace_path, const std::string& policy,
                        const EngineOptions& options, const ProgressFn& progress) {
  absl::StatusOr<PolicySpec> spec = PolicySpec::Parse(policy);
  if (!spec.ok()) return FailedRun(policy, spec.status());
  std::string preload;
  if (IsSystemAllocator(spec->name)) {
#if defined(__SANITIZE_ADDRESS__)
    return FailedRun(policy, absl::UnavailableError(absl::StrCat(
                                 "policy '", policy,
                                 "': system allocators are not replayed in a sanitizer build (the "
                                 "sanitizer's allocator stands in for malloc)")));
#endif
    absl::StatusOr<std::string> library = SystemAllocatorPreload(*spec);
    if (!library.ok()) return FailedRun(policy, library.status());
    preload = *library;
  }
  absl::StatusOr<std::string> child =
      FindBundledFile("replay/replay_child", "WORKBENCH_REPLAY_CHILD");
  if (!child.ok()) return FailedRun(policy, child.status());
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = TraceReader::Open(trace_path);
  if (!reader.ok()) return FailedRun(policy, reader.status());

  // Everything the child needs is made before fork.
  std::vector<std::string> args = ChildArguments(*child, policy, trace_path, options);
  std::vector<std::string> env = ChildEnvironment(preload);
  std::vector<char*> argv = CStrings(args);
  std::vector<char*> envp = CStrings(env);
  const std::string exec_failure =
      EncodeResult(FailedRun(policy, absl::OkStatus()).result,
                   absl::InternalError(absl::StrCat("cannot run ", *child, ": exec failed")));

  int events[2];  // A socket, so a write after the child quits is EPIPE, not SIGPIPE.
  int results[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, events) != 0) {
    return FailedRun(policy,
                     absl::InternalError(absl::StrCat("socketpair: ", std::strerror(errno))));
  }
  if (pipe2(results, O_CLOEXEC) != 0) {
    close(events[0]);
    close(events[1]);
    return FailedRun(policy, absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno))));
  }
  const pid_t pid = fork();
  if (pid == 0) {
    // dup2 clears close-on-exec on the copies.
    if (dup2(events[1], STDIN_FILENO) >= 0 && dup2(results[1], STDOUT_FILENO) >= 0) {
      execve(argv[0], argv.data(), envp.data());
    }
    (void)WriteAll(results[1], exec_failure);
    _exit(127);
  }
  close(events[1]);
  close(results[1]);
  if (pid < 0) {
    close(events[0]);
    close(results[0]);
    return FailedRun(policy, absl::InternalError(absl::StrCat("fork: ", std::strerror(errno))));
  }
  // A reader error reaches the child, which reports it as the replay's.
  (void)SendEvents(**reader, events[0], progress);
  close(events[0]);
  const std::string text = ReadAll(results[0]);
  close(results[0]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  PolicyRun run = FailedRun(policy, absl::OkStatus());
  if (WIFSIGNALED(wstatus)) {
    run.status = absl::AbortedError(
        absl::StrCat("the replay of ", policy, " crashed: ", strsignal(WTERMSIG(wstatus))));
    // What it measured before it died is lost with it.
    return run;
  }
  absl::Status decoded = DecodeResult(text, &run.result, &run.status);
  if (!decoded.ok()) {
    run.status = absl::AbortedError(absl::StrCat("the replay of ", policy, " exited with status ",
                                                 WEXITSTATUS(wstatus), ": ", decoded.message()));
  }
  return run;
}

}  // namespace replay
