#include "replay/policy_replay.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "replay/subjects.h"

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
      << "final_footprint " << r.final_footprint << "\n"
      << "collections " << r.collections << "\n"
      << "gc " << absl::StrCat(r.gc_seconds) << " " << absl::StrCat(r.max_pause) << " "
      << absl::StrCat(r.p99_pause) << " " << absl::StrCat(r.mmu_10ms) << " "
      << absl::StrCat(r.mmu_50ms) << "\n";
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
    } else if (key == "collections") {
      r->collections = u64(rest);
    } else if (key == "gc" && f.size() == 5) {
      double* fields[] = {&r->gc_seconds, &r->max_pause, &r->p99_pause, &r->mmu_10ms, &r->mmu_50ms};
      for (int i = 0; i < 5; ++i) (void)absl::SimpleAtod(f[i], fields[i]);
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

PolicyRun FailedRun(const std::string& policy, absl::Status status) {
  PolicyRun run{policy, {}, std::move(status)};
  run.result.subject = policy;
  return run;
}

PolicyRun ReplayPolicy(EventSource& source, const std::string& policy,
                       const EngineOptions& options) {
  absl::StatusOr<PolicySpec> spec = PolicySpec::Parse(policy);
  if (!spec.ok()) return FailedRun(policy, spec.status());
  if (spec->name == "null" && options.verify) {
    return FailedRun(policy, absl::InvalidArgumentError(
                                 "the null policy's blocks are not memory: it cannot --verify"));
  }
  absl::StatusOr<std::unique_ptr<Subject>> subject = MakeSubject(*spec);
  if (!subject.ok()) return FailedRun(policy, subject.status());
  PolicyRun run = FailedRun(policy, absl::OkStatus());
  Engine engine(subject->get(), options);
  run.status = engine.Replay(source, &run.result);
  if (run.status.ok() && options.verify) run.status = (*subject)->Check();
  return run;
}

}  // namespace replay
