#include "replay/isolated_replay.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "replay/pool_subjects.h"

namespace replay {
namespace {

// Escapes a message onto one line.
std::string OneLine(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out += s[i + 1] == 'n' ? '\n' : s[i + 1];
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

absl::Status WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::InternalError(absl::StrCat("pipe write: ", std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeResult(const ReplayResult& r, const absl::Status& status) {
  std::ostringstream out;
  out << "subject " << OneLine(r.subject) << "\n"
      << "status " << static_cast<int>(status.code()) << " "
      << OneLine(std::string(status.message())) << "\n"
      << "events " << r.events << "\n"
      << "seconds " << absl::StrCat(r.seconds) << "\n"
      << "skipped " << r.skipped << "\n"
      << "live " << r.live << "\n"
      << "peak_live " << r.peak_live << "\n"
      << "peak_footprint " << r.peak_footprint << "\n"
      << "live_at_peak_footprint " << r.live_at_peak_footprint << "\n"
      << "final_footprint " << r.final_footprint << "\n";
  for (int k = 0; k < kEventKindCount; ++k) out << "kind " << k << " " << r.per_kind[k] << "\n";
  for (const std::string& e : r.skipped_examples) out << "example " << OneLine(e) << "\n";
  for (const auto& [name, value] : r.counters) out << "counter " << value << " " << name << "\n";
  for (const Sample& s : r.series)
    out << "sample " << s.event << " " << s.live << " " << s.footprint << "\n";
  out << "end\n";
  return out.str();
}

absl::Status DecodeResult(const std::string& text, ReplayResult* r, absl::Status* status) {
  bool ended = false;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const std::size_t space = line.find(' ');
    const std::string key(line.substr(0, space));
    const std::string rest =
        space == absl::string_view::npos ? "" : std::string(line.substr(space + 1));
    std::vector<std::string> f = absl::StrSplit(rest, ' ');
    auto u64 = [&](const std::string& s) {
      std::uint64_t v = 0;
      (void)absl::SimpleAtoi(s, &v);
      return v;
    };
    if (key == "subject") {
      r->subject = Unescape(rest);
    } else if (key == "status") {
      int code = 0;
      (void)absl::SimpleAtoi(f[0], &code);
      const std::size_t sp = rest.find(' ');
      *status = absl::Status(static_cast<absl::StatusCode>(code),
                             sp == std::string::npos ? "" : Unescape(rest.substr(sp + 1)));
    } else if (key == "events") {
      r->events = u64(rest);
    } else if (key == "seconds") {
      (void)absl::SimpleAtod(rest, &r->seconds);
    } else if (key == "skipped") {
      r->skipped = u64(rest);
    } else if (key == "live") {
      r->live = u64(rest);
    } else if (key == "peak_live") {
      r->peak_live = u64(rest);
    } else if (key == "peak_footprint") {
      r->peak_footprint = u64(rest);
    } else if (key == "live_at_peak_footprint") {
      r->live_at_peak_footprint = u64(rest);
    } else if (key == "final_footprint") {
      r->final_footprint = u64(rest);
    } else if (key == "kind" && f.size() == 2 && u64(f[0]) < kEventKindCount) {
      r->per_kind[u64(f[0])] = u64(f[1]);
    } else if (key == "example") {
      r->skipped_examples.push_back(Unescape(rest));
    } else if (key == "counter" && f.size() >= 2) {
      r->counters.emplace_back(rest.substr(rest.find(' ') + 1), u64(f[0]));
    } else if (key == "sample" && f.size() == 3) {
      r->series.push_back(Sample{u64(f[0]), u64(f[1]), u64(f[2])});
    } else if (key == "end") {
      ended = true;
    } else {
      return absl::DataLossError(absl::StrCat("unexpected result line '", line, "'"));
    }
  }
  if (!ended) return absl::DataLossError("the result ended early");
  return absl::OkStatus();
}

PolicyRun ReplayHere(const std::string& trace_path, const std::string& policy,
                     const EngineOptions& options) {
  PolicyRun run{policy, {}, absl::OkStatus()};
  run.result.subject = policy;
  absl::StatusOr<PolicySpec> spec = PolicySpec::Parse(policy);
  if (!spec.ok()) {
    run.status = spec.status();
    return run;
  }
  absl::StatusOr<std::unique_ptr<Subject>> subject = MakePoolSubject(*spec);
  if (!subject.ok()) {
    run.status = subject.status();
    return run;
  }
  absl::StatusOr<std::unique_ptr<TraceReader>> reader = TraceReader::Open(trace_path);
  if (!reader.ok()) {
    run.status = reader.status();
    return run;
  }
  Engine engine(subject->get(), options);
  run.status = engine.Replay(**reader, &run.result);
  if (run.status.ok() && options.verify) run.status = (*subject)->Check();
  return run;
}

PolicyRun ReplayInChild(const std::string& trace_path, const std::string& policy,
                        const EngineOptions& options) {
  PolicyRun run{policy, {}, absl::OkStatus()};
  run.result.subject = policy;
  int fds[2];
  if (pipe(fds) != 0) {
    run.status = absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
    return run;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    run.status = absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
    return run;
  }
  if (pid == 0) {
    close(fds[0]);
    PolicyRun child = ReplayHere(trace_path, policy, options);
    const bool sent = WriteAll(fds[1], EncodeResult(child.result, child.status)).ok();
    _exit(sent ? 0 : 3);
  }
  close(fds[1]);
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(wstatus)) {
    run.status = absl::AbortedError(
        absl::StrCat("the replay of ", policy, " crashed: ", strsignal(WTERMSIG(wstatus))));
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
