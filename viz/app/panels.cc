#include "viz/app/panels.h"

#include <imgui.h>

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace viz {
namespace {

ImU32 ToImColor(Rgb c) { return IM_COL32(c.r, c.g, c.b, 255); }
constexpr ImU32 kText = IM_COL32(230, 230, 230, 255);
constexpr ImU32 kPlotBackground = IM_COL32(34, 34, 40, 255);

std::string Bytes(std::uint64_t n) {
  if (n >= (1u << 20)) return absl::StrFormat("%.1f MiB", static_cast<double>(n) / (1 << 20));
  if (n >= (1u << 10)) return absl::StrFormat("%.1f KiB", static_cast<double>(n) / (1 << 10));
  return absl::StrCat(n, " B");
}

constexpr float kControlsTop = 62;  // The buttons; a status line per replay follows.
constexpr float kStatusLine = 18;
constexpr float kLegendHeight = 40;
constexpr float kChartHeight = 72;
constexpr float kPausesHeight = 52;
constexpr float kTimelineHeight = 44;

float ControlsHeight(std::size_t sessions) {
  return kControlsTop + kStatusLine * static_cast<float>(sessions) + 8;
}

// The horizontal axis every plot of a pane shares: events so far.
struct EventAxis {
  float left, width;
  double last;
  float X(std::uint64_t event) const {
    return left + width * static_cast<float>(static_cast<double>(event) / last);
  }
};

// Footprint (bright) and live bytes (dim) over the events so far, and
// fragmentation (footprint / live - 1) on a scale of its own, drawn where
// at least 5% of the most live bytes are live (near empty heaps have
// meaningless ratios).
void DrawChart(const ReplaySession& s, const EventAxis& axis, ImDrawList* draw, float top) {
  const std::vector<ReplaySession::Point> points = s.Chart();
  const float bottom = top + kChartHeight - 8;
  draw->AddRectFilled(ImVec2(axis.left, top + 16), ImVec2(axis.left + axis.width, bottom),
                      kPlotBackground);
  std::uint64_t max_bytes = 1, max_live = 0;
  for (const auto& p : points) {
    max_bytes = std::max({max_bytes, p.footprint, p.live});
    max_live = std::max(max_live, p.live);
  }
  const auto counts = [&](const ReplaySession::Point& p) { return p.live * 20 >= max_live; };
  double max_fragmentation = 0;
  for (const auto& p : points) {
    if (counts(p)) max_fragmentation = std::max(max_fragmentation, p.fragmentation());
  }
  const double now = points.empty() ? 0 : points.back().fragmentation();
  draw->AddText(ImVec2(axis.left, top), kText,
                absl::StrFormat("footprint/live to %s | frag %.0f%%, max %.0f%%", Bytes(max_bytes),
                                now * 100, max_fragmentation * 100)
                    .c_str());
  const float span = bottom - top - 18;
  const auto at = [&](std::uint64_t event, double fraction) {
    return ImVec2(axis.X(event), bottom - span * static_cast<float>(fraction));
  };
  const auto bytes = [&](std::uint64_t n) {
    return static_cast<double>(n) / static_cast<double>(max_bytes);
  };
  for (std::size_t i = 1; i < points.size(); ++i) {
    const ReplaySession::Point &a = points[i - 1], &b = points[i];
    if (max_fragmentation > 0 && counts(a) && counts(b)) {
      draw->AddLine(at(a.event, a.fragmentation() / max_fragmentation),
                    at(b.event, b.fragmentation() / max_fragmentation),
                    IM_COL32(236, 112, 160, 220));
    }
    draw->AddLine(at(a.event, bytes(a.live)), at(b.event, bytes(b.live)),
                  IM_COL32(140, 140, 150, 255));
    draw->AddLine(at(a.event, bytes(a.footprint)), at(b.event, bytes(b.footprint)),
                  IM_COL32(90, 200, 250, 255), 1.5f);
  }
}

// Every pause so far as a bar at its event, as tall as it was long.
void DrawPauses(const ReplaySession& s, const EventAxis& axis, ImDrawList* draw, float top) {
  const std::vector<ReplaySession::Pause> pauses = s.Pauses();
  const float bottom = top + kPausesHeight - 8;
  draw->AddRectFilled(ImVec2(axis.left, top + 16), ImVec2(axis.left + axis.width, bottom),
                      kPlotBackground);
  double longest = 0;
  for (const auto& p : pauses) longest = std::max(longest, p.seconds);
  draw->AddText(
      ImVec2(axis.left, top), kText,
      absl::StrFormat("%d pauses, longest %.2f ms", pauses.size(), longest * 1e3).c_str());
  if (longest <= 0) return;
  for (const auto& p : pauses) {
    const float x = axis.X(p.event);
    const float h = (bottom - top - 18) * static_cast<float>(p.seconds / longest);
    draw->AddLine(ImVec2(x, bottom), ImVec2(x, bottom - std::max(h, 1.f)),
                  IM_COL32(250, 170, 60, 255));
  }
}

// The collections as phase spans over the events so far.
void DrawTimeline(const ReplaySession& s, const EventAxis& axis, ImDrawList* draw, float top) {
  const std::vector<PhaseSpan> spans = s.timeline().Spans();
  draw->AddRectFilled(ImVec2(axis.left, top + 16),
                      ImVec2(axis.left + axis.width, top + kTimelineHeight - 8),
                      IM_COL32(40, 40, 46, 255));
  for (const PhaseSpan& span : spans) {
    const float x0 = axis.X(span.begin_event);
    const float x1 = std::max(x0 + 1, axis.X(span.end_event));
    draw->AddRectFilled(ImVec2(x0, top + 16), ImVec2(x1, top + kTimelineHeight - 8),
                        ToImColor(ColorOf(span.phase)));
  }
  draw->AddText(ImVec2(axis.left, top), kText,
                absl::StrCat(s.timeline().finished(), " collections").c_str());
}

// The hover box: the tile, and the object under the mouse at `addr`.
// The cached block holding `addr`, if the pane's heap view has one.
const core::Range* CachedBlockAt(const PaneCache& cache, core::Addr addr) {
  if (!cache.heap) return nullptr;
  const std::vector<core::Range>& blocks = cache.heap->cached_blocks;
  auto it = std::upper_bound(blocks.begin(), blocks.end(), addr,
                             [](core::Addr a, core::Range r) { return a < r.base; });
  if (it == blocks.begin() || !std::prev(it)->Contains(addr)) return nullptr;
  return &*std::prev(it);
}

std::string DescribeHover(const ArenaMap& map, const Tile& tile, const ReplaySession& s,
                          bool parked, PaneCache& cache, core::Addr addr) {
  std::string text = DescribeTile(map, tile);
  if (!parked) return text + "\n(objects are looked up while the replay stands still)";
  const std::uint64_t at = cache.heap ? cache.heap->position : ~std::uint64_t{0};
  if (cache.hovered != addr || cache.hovered_at != at) {
    cache.object = s.FindObject(addr);
    cache.hovered = addr;
    cache.hovered_at = at;
  }
  if (cache.object) {
    const ReplaySession::ObjectInfo& o = *cache.object;
    absl::StrAppend(
        &text, "\nobject #", o.id, ", ", o.size, " bytes at 0x", absl::Hex(o.base),
        o.generation >= 0 ? absl::StrCat(", generation ", o.generation) : "",
        o.forwarded_to != 0 ? absl::StrCat(", forwarded to 0x", absl::Hex(o.forwarded_to)) : "");
  } else if (const core::Range* block = CachedBlockAt(cache, addr)) {
    absl::StrAppend(&text, "\n0x", absl::Hex(addr), ": in a ", block->size(), "-byte block at 0x",
                    absl::Hex(block->base), " held by the segregated cache");
  } else {
    absl::StrAppend(&text, "\n0x", absl::Hex(addr), ": no live object");
  }
  return text;
}

}  // namespace

void DrawControls(const std::vector<ReplaySession*>& sessions, std::vector<PaneCache>& caches,
                  ViewState& view) {
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(io.DisplaySize.x, ControlsHeight(sessions.size())));
  ImGui::Begin("controls", nullptr,
               ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoMove);
  if (ImGui::Button(view.playing ? "Pause" : "Play")) view.playing = !view.playing;
  ImGui::SameLine();
  if (ImGui::Button("Step 1")) view.target += 1;
  ImGui::SameLine();
  if (ImGui::Button("Step N")) view.target += static_cast<std::uint64_t>(view.step_events);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(90);
  ImGui::InputInt("N", &view.step_events, 0);
  view.step_events = std::max(view.step_events, 1);
  const bool collecting = std::any_of(sessions.begin(), sessions.end(),
                                      [](const ReplaySession* s) { return s->collects(); });
  ImGui::BeginDisabled(!collecting || view.step_goal.has_value());
  ImGui::SameLine();
  if (ImGui::Button("Next phase")) view.step_goal = ReplaySession::StepGoal::kPhaseChange;
  ImGui::SameLine();
  if (ImGui::Button("Next collection")) view.step_goal = ReplaySession::StepGoal::kCollectionEnd;
  ImGui::EndDisabled();
  if (view.step_goal) view.playing = false;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(130);
  ImGui::InputScalar("##seek", ImGuiDataType_U64, &view.seek);
  ImGui::SameLine();
  if (ImGui::Button("Seek")) {
    view.target = view.seek;
    view.seek_requested = true;
  }
  ImGui::SetNextItemWidth(200);
  ImGui::SliderInt("events/frame", &view.events_per_frame, 1, 1000000, "%d",
                   ImGuiSliderFlags_Logarithmic);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(120);
  ImGui::SliderInt("tile px", &view.tile_pixels, 1, 24);
  ImGui::SameLine();
  if (ImGui::Button("Whole arena")) view.window = {};
  ImGui::SameLine();
  ImGui::TextUnformatted("(wheel: zoom, drag: pan)");
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const ReplaySession& s = *sessions[i];
    const absl::Status status = s.status();
    std::string line = absl::StrCat(s.policy(), ": event ", s.position());
    if (const auto& heap = caches[i].heap) {
      absl::StrAppend(&line, " (", heap->last_kind, "), live ", Bytes(heap->live));
      if (heap->phase != core::gc::Phase::kIdle) {
        absl::StrAppend(&line, ", collecting: ", core::gc::PhaseName(heap->phase));
      }
    }
    absl::StrAppend(&line, ", footprint ", Bytes(s.footprint()), s.at_end() ? ", end of trace" : "",
                    status.ok() ? "" : absl::StrCat(", ", status.message()));
    ImGui::TextUnformatted(line.c_str());
  }
  ImGui::End();
}

void DrawPanes(const std::vector<ReplaySession*>& sessions, std::vector<PaneCache>& caches,
               ViewState& view, std::vector<DrawnTile>* drawn) {
  const ImGuiIO& io = ImGui::GetIO();
  const float top = ControlsHeight(sessions.size());
  const float bottom = io.DisplaySize.y - kLegendHeight;
  const float pane_width =
      io.DisplaySize.x / static_cast<float>(std::max<std::size_t>(sessions.size(), 1));
  ImDrawList* draw = ImGui::GetBackgroundDrawList();
  std::size_t shown[core::kSegmentTypeCount] = {};
  std::size_t shown_colors[core::gc::kTraceColorCount] = {};
  std::size_t shown_cached = 0;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    ReplaySession& s = *sessions[i];
    PaneCache& cache = caches[i];
    std::optional<ReplaySession::HeapView> heap = s.Inspect();
    const bool parked = heap.has_value();
    if (parked) cache.heap = std::move(heap);
    const float left = pane_width * static_cast<float>(i);
    // Nothing a pane draws spills into its neighbour.
    draw->PushClipRect(ImVec2(left, top), ImVec2(left + pane_width - 4, bottom));
    std::string title = s.policy();
    if (cache.heap && !cache.heap->generations.empty()) {
      std::vector<std::string> sizes;
      for (std::uint64_t g : cache.heap->generations) sizes.push_back(Bytes(g));
      absl::StrAppend(&title, "   generations: ", absl::StrJoin(sizes, " | "));
    }
    draw->AddText(ImVec2(left + 8, top + 4), kText, title.c_str());
    const auto describe_window = [&](const ArenaMap& m) {
      return absl::StrCat(m.grains_per_tile, m.grains_per_tile == 1 ? " grain" : " grains",
                          " a tile",
                          m.first_grain > 0 ? absl::StrCat(", from grain ", m.first_grain) : "");
    };
    const core::Arena* arena = s.arena();
    if (arena == nullptr) {
      draw->AddText(ImVec2(left + 8, top + 24), IM_COL32(200, 200, 200, 255),
                    "(no arena: a system allocator)");
      draw->PopClipRect();
      continue;
    }
    // Under the map: the chart, and for collectors their pauses and
    // timeline.
    const EventAxis axis{left + 8, pane_width - 16,
                         static_cast<double>(std::max<std::uint64_t>(s.position(), 1))};
    float plot_top = bottom - kChartHeight - (s.collects() ? kPausesHeight + kTimelineHeight : 0);
    const float height = plot_top - top;
    DrawChart(s, axis, draw, plot_top);
    if (s.collects()) {
      DrawPauses(s, axis, draw, plot_top += kChartHeight);
      DrawTimeline(s, axis, draw, plot_top += kPausesHeight);
    }

    const float px = static_cast<float>(view.tile_pixels);
    const float map_top = top + 24;
    const std::size_t columns =
        std::max<std::size_t>(1, static_cast<std::size_t>((pane_width - 16) / px));
    const std::size_t rows = std::max<std::size_t>(1, static_cast<std::size_t>((height - 24) / px));
    ArenaMap map = BuildArenaMap(*arena, columns, columns * rows, view.window);
    const std::string window_text = describe_window(map);
    draw->AddText(
        ImVec2(left + pane_width - 12 - ImGui::CalcTextSize(window_text.c_str()).x, top + 4),
        IM_COL32(170, 170, 170, 255), window_text.c_str());
    if (cache.heap) {
      ApplyFreeBlocks(cache.heap->free_blocks, &map);
      ApplyCachedBlocks(cache.heap->cached_blocks, &map);
      ApplyTraceColors(cache.heap->colors, &map);
      shown_cached += map.cached_tiles;
    }
    bool seen[core::kSegmentTypeCount] = {};
    bool seen_colors[core::gc::kTraceColorCount] = {};
    const float gap = px >= 4 ? 1 : 0;
    for (std::size_t t = 0; t < map.tiles.size(); ++t) {
      const Tile& tile = map.tiles[t];
      const float x = left + 8 + static_cast<float>(t % columns) * px;
      const float y = map_top + static_cast<float>(t / columns) * px;
      draw->AddRectFilled(ImVec2(x, y), ImVec2(x + px - gap, y + px - gap), ToImColor(tile.color));
      if (tile.range.base == view.selected) {
        draw->AddRect(ImVec2(x - 1, y - 1), ImVec2(x + px, y + px), IM_COL32(255, 255, 255, 255));
      }
      const ImVec2 centre(x + (px - gap) / 2, y + (px - gap) / 2);
      if (tile.trace_color) {
        const int c = static_cast<int>(*tile.trace_color);
        if (!seen_colors[c] && drawn != nullptr) {
          drawn->push_back(DrawnTile{
              s.policy(), absl::StrCat("color:", core::gc::TraceColorName(*tile.trace_color)),
              centre.x, centre.y});
        }
        seen_colors[c] = true;
        ++shown_colors[c];
        continue;
      }
      const int type = static_cast<int>(tile.type);
      ++shown[type];
      // Shaded or tinted: not the type's own colour.
      if (tile.free_bytes > 0 || tile.cached_bytes > 0) continue;
      if (!seen[type] && drawn != nullptr) {
        drawn->push_back(
            DrawnTile{s.policy(), core::SegmentTypeName(tile.type), centre.x, centre.y});
      }
      seen[type] = true;
    }
    draw->PopClipRect();
    // Hover and click: the tile under the mouse, and the object at the
    // address under it (across the tile, left to right).
    const ImVec2 mouse = io.MousePos;
    if (mouse.x >= left + 8 && mouse.y >= map_top) {
      const float fx = (mouse.x - left - 8) / px, fy = (mouse.y - map_top) / px;
      const auto c = static_cast<std::size_t>(fx);
      const auto r = static_cast<std::size_t>(fy);
      if (c < columns && r < rows) {
        // Zoom about the tile under the mouse; pan by dragging rows.
        if (io.MouseWheel != 0) {
          view.window = ZoomAt(map, r * columns + c, io.MouseWheel > 0 ? 1 : -1);
        }
        if (ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
          view.pan_pixels += io.MouseDelta.y;
          const auto whole = static_cast<std::ptrdiff_t>(view.pan_pixels / px);
          if (whole != 0) {
            view.window = Pan(map, -whole);
            view.pan_pixels -= static_cast<float>(whole) * px;
          }
        }
      }
      if (const Tile* tile = c < columns ? TileAt(map, c, r) : nullptr) {
        const auto offset = static_cast<core::Addr>(static_cast<double>(tile->range.size()) *
                                                    (fx - static_cast<float>(c)));
        const core::Addr addr = tile->range.base + offset / 16 * 16;
        ImGui::SetTooltip("%s", DescribeHover(map, *tile, s, parked, cache, addr).c_str());
        if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) view.selected = tile->range.base;
      }
    }
  }
  // The legend: the segment types and trace colours on screen.
  float x = 8;
  const float y = bottom + 12;
  const auto key = [&](Rgb color, const char* name) {
    if (x > io.DisplaySize.x - 120) return;
    draw->AddRectFilled(ImVec2(x, y), ImVec2(x + 14, y + 14), ToImColor(color));
    draw->AddRect(ImVec2(x, y), ImVec2(x + 14, y + 14), IM_COL32(90, 90, 90, 255));
    draw->AddText(ImVec2(x + 18, y), kText, name);
    x += 30 + ImGui::CalcTextSize(name).x;
  };
  for (int t = 0; t < core::kSegmentTypeCount; ++t) {
    const auto type = static_cast<core::SegmentType>(t);
    if (shown[t] > 0) key(ColorOf(type, true), core::SegmentTypeName(type));
  }
  for (int c = 0; c < core::gc::kTraceColorCount; ++c) {
    const auto color = static_cast<core::gc::TraceColor>(c);
    if (shown_colors[c] > 0) key(ColorOf(color), core::gc::TraceColorName(color));
  }
  if (shown_cached > 0) {
    // Tinted tiles are blends; the key is the colour itself.
    if (drawn != nullptr) drawn->push_back(DrawnTile{"legend", "cached", x + 7, y + 7});
    key(kCachedColor, "cached (segregated cache)");
  }
}

}  // namespace viz
