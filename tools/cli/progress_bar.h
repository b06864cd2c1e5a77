// A progress bar on stderr for long work, drawn only when stderr is a
// terminal (never in pipes, files or CI logs), redrawn at most ten times a
// second, and erased when done:
//   compare jemalloc  [##########----------]  52%  5.2M events
#ifndef TOOLS_CLI_PROGRESS_BAR_H_
#define TOOLS_CLI_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace cli {

class ProgressBar {
 public:
  // `enabled` defaults to whether stderr is a terminal.
  explicit ProgressBar(std::string label);
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar() { Done(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // fraction in [0, 1]; `count` of `unit`s done so far.
  void Update(double fraction, std::uint64_t count, const char* unit = "events");
  // Erases the bar.
  void Done();

  // The line Update draws (without the carriage return), for tests.
  static std::string Render(const std::string& label, double fraction, std::uint64_t count,
                            const char* unit);

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace cli

#endif  // TOOLS_CLI_PROGRESS_BAR_H_
