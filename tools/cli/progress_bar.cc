#include "tools/cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cli {
namespace {

constexpr int kWidth = 20;
constexpr auto kInterval = std::chrono::milliseconds(100);

std::string Count(std::uint64_t n) {
  if (n >= 1'000'000) return absl::StrFormat("%.1fM", static_cast<double>(n) / 1e6);
  if (n >= 10'000) return absl::StrFormat("%.0fk", static_cast<double>(n) / 1e3);
  return absl::StrCat(n);
}

}  // namespace

ProgressBar::ProgressBar(std::string label) : ProgressBar(std::move(label), isatty(2) == 1) {}

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled) {}

std::string ProgressBar::Render(const std::string& label, double fraction, std::uint64_t count,
                                const char* unit) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int filled = static_cast<int>(fraction * kWidth + 0.5);
  return absl::StrFormat("%s  [%s%s] %3d%%  %s %s", label, std::string(filled, '#'),
                         std::string(kWidth - filled, '-'), static_cast<int>(fraction * 100),
                         Count(count), unit);
}

void ProgressBar::Update(double fraction, std::uint64_t count, const char* unit) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < kInterval) return;
  last_ = now;
  drawn_ = true;
  // \r and erase-to-end-of-line: the bar overwrites itself.
  std::fprintf(stderr, "\r%s\033[K", Render(label_, fraction, count, unit).c_str());
  std::fflush(stderr);
}

void ProgressBar::Done() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace cli
