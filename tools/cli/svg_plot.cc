#include "tools/cli/svg_plot.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cli {
namespace {

constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                    "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// 1.5 MiB, 12 KiB, 800 B.
std::string Bytes(double b) {
  if (b >= 1 << 30) return absl::StrFormat("%.3g GiB", b / (1 << 30));
  if (b >= 1 << 20) return absl::StrFormat("%.3g MiB", b / (1 << 20));
  if (b >= 1 << 10) return absl::StrFormat("%.3g KiB", b / (1 << 10));
  return absl::StrFormat("%.0f B", b);
}

// A round step giving about `ticks` ticks over [0, max].
double NiceStep(double max, int ticks) {
  const double raw = std::max(max, 1.0) / ticks;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (raw <= m * p) return m * p;
  }
  return 10 * p;
}

std::string Text(double x, double y, const std::string& s, const char* anchor = "start",
                 int size = 12) {
  return absl::StrFormat(
      "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\">%s</text>\n", x, y, size,
      anchor, Escape(s));
}

}  // namespace

std::string ComparePlotSvg(const std::string& title, const std::vector<replay::PolicyRun>& runs) {
  const double width = 1100;
  const double height = 500 + 18.0 * static_cast<double>(runs.size());
  // Line chart area and bar chart area.
  const double lx = 90, ly = 60, lw = 600, lh = 360;
  const double bx = 790, by = 60, bw = 270, bh = 360;

  double max_event = 1, max_bytes = 1, max_frag = 0.01;
  for (const replay::PolicyRun& run : runs) {
    for (const replay::Sample& s : run.result.series) {
      max_event = std::max(max_event, static_cast<double>(s.event));
      max_bytes =
          std::max({max_bytes, static_cast<double>(s.footprint), static_cast<double>(s.live)});
    }
    max_bytes = std::max(max_bytes, static_cast<double>(run.result.peak_footprint));
    max_frag = std::max(
        {max_frag, run.result.fragmentation_at_peak(), run.result.peak_to_peak_fragmentation()});
  }
  const double ystep = NiceStep(max_bytes, 6);
  max_bytes = std::ceil(max_bytes / ystep) * ystep;
  const double xstep = NiceStep(max_event, 5);
  const double fstep = NiceStep(max_frag, 5);
  max_frag = std::ceil(max_frag / fstep) * fstep;
  auto X = [&](double e) { return lx + lw * e / max_event; };
  auto Y = [&](double b) { return ly + lh - lh * b / max_bytes; };

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      width, height);
  svg += Text(width / 2, 28, title, "middle", 16);

  // Line chart: grid, axes, labels.
  for (double b = 0; b <= max_bytes + ystep / 2; b += ystep) {
    svg +=
        absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                        lx, Y(b), lx + lw, Y(b));
    svg += Text(lx - 6, Y(b) + 4, Bytes(b), "end", 11);
  }
  for (double e = 0; e <= max_event * (1 + 1e-9); e += xstep) {  // No tick past the axis.
    svg +=
        absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                        X(e), ly, X(e), ly + lh);
    svg += Text(X(e), ly + lh + 16, absl::StrFormat("%.3g", e), "middle", 11);
  }
  svg += absl::StrFormat(
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
      "stroke=\"#333\"/>\n",
      lx, ly, lw, lh);
  svg += Text(lx + lw / 2, ly + lh + 36, "event", "middle");
  svg += Text(lx, ly - 8, "footprint (solid) and live bytes (dashed)", "start");

  // Live bytes are the trace's, the same for every policy: draw them once.
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& series = runs[i].result.series;
    if (series.empty()) continue;
    std::string footprint, live;
    for (const replay::Sample& s : series) {
      absl::StrAppendFormat(&footprint, "%.1f,%.1f ", X(s.event), Y(s.footprint));
      absl::StrAppendFormat(&live, "%.1f,%.1f ", X(s.event), Y(s.live));
    }
    const char* colour = kColours[i % std::size(kColours)];
    svg += absl::StrFormat(
        "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"/>\n", footprint,
        colour);
    if (i == 0) {
      svg += absl::StrFormat(
          "<polyline points=\"%s\" fill=\"none\" stroke=\"#444\" stroke-width=\"1.2\" "
          "stroke-dasharray=\"5,4\"/>\n",
          live);
    }
  }

  // Bar chart: fragmentation at peak footprint and peak-to-peak.
  svg += absl::StrFormat(
      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
      "stroke=\"#333\"/>\n",
      bx, by, bw, bh);
  svg += Text(bx, by - 8, "fragmentation (solid: at peak; pale: peak/peak)", "start", 11);
  for (double f = 0; f <= max_frag + fstep / 2; f += fstep) {
    const double y = by + bh - bh * f / max_frag;
    svg +=
        absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                        bx, y, bx + bw, y);
    svg += Text(bx - 6, y + 4, absl::StrFormat("%.2f", f), "end", 11);
  }
  const double slot = bw / std::max<std::size_t>(runs.size(), 1);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const char* colour = kColours[i % std::size(kColours)];
    const double values[2] = {runs[i].result.fragmentation_at_peak(),
                              runs[i].result.peak_to_peak_fragmentation()};
    for (int k = 0; k < 2; ++k) {
      const double h = bh * std::max(values[k], 0.0) / max_frag;
      const double x = bx + slot * i + slot * (0.15 + 0.35 * k);
      svg += absl::StrFormat(
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
          "fill-opacity=\"%s\"/>\n",
          x, by + bh - h, slot * 0.33, h, colour, k == 0 ? "1" : "0.45");
    }
    svg += Text(bx + slot * (i + 0.5), by + bh + 16, absl::StrCat("#", i + 1), "middle", 11);
  }

  // Legend: one line per policy, with its status.
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const double y = ly + lh + 60 + 18 * i;
    const char* colour = kColours[i % std::size(kColours)];
    svg += absl::StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>\n",
                           lx, y - 9, colour);
    std::string label = absl::StrCat("#", i + 1, " ", runs[i].policy, "  peak footprint ",
                                     Bytes(static_cast<double>(runs[i].result.peak_footprint)));
    if (!runs[i].status.ok()) absl::StrAppend(&label, "  (failed)");
    svg += Text(lx + 20, y, label, "start", 12);
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace cli
