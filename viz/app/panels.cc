#include "viz/app/panels.h"

#include <imgui.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace viz {
namespace {

ImU32 ToImColor(Rgb c) { return IM_COL32(c.r, c.g, c.b, 255); }

std::string Bytes(std::size_t n) {
  if (n >= (1u << 20)) return absl::StrFormat("%.1f MiB", static_cast<double>(n) / (1 << 20));
  if (n >= (1u << 10)) return absl::StrFormat("%.1f KiB", static_cast<double>(n) / (1 << 10));
  return absl::StrCat(n, " B");
}

constexpr float kControlsHeight = 110;
constexpr float kLegendHeight = 64;
constexpr float kTimelineHeight = 44;

constexpr float kChartHeight = 72;

// Footprint (solid) and live bytes (dim) over the events so far.
void DrawChart(const ReplaySession& s, ImDrawList* draw, float left, float top, float width) {
  const std::vector<ReplaySession::Point> points = s.Chart();
  const float bottom = top + kChartHeight - 8;
  draw->AddRectFilled(ImVec2(left, top + 16), ImVec2(left + width, bottom),
                      IM_COL32(34, 34, 40, 255));
  std::uint64_t max_bytes = 1, last_event = 1;
  for (const auto& p : points) {
    max_bytes = std::max({max_bytes, p.footprint, p.live});
    last_event = std::max(last_event, p.event);
  }
  draw->AddText(
      ImVec2(left, top), IM_COL32(230, 230, 230, 255),
      absl::StrCat("footprint (bright) and live (dim), up to ", Bytes(max_bytes)).c_str());
  const auto at = [&](std::uint64_t event, std::uint64_t bytes) {
    return ImVec2(
        left + width * static_cast<float>(static_cast<double>(event) / last_event),
        bottom - (bottom - top - 18) * static_cast<float>(static_cast<double>(bytes) / max_bytes));
  };
  for (std::size_t i = 1; i < points.size(); ++i) {
    draw->AddLine(at(points[i - 1].event, points[i - 1].live), at(points[i].event, points[i].live),
                  IM_COL32(140, 140, 150, 255));
    draw->AddLine(at(points[i - 1].event, points[i - 1].footprint),
                  at(points[i].event, points[i].footprint), IM_COL32(90, 200, 250, 255), 1.5f);
  }
}

// The collections of one replay as phase spans over its events so far.
void DrawTimeline(const ReplaySession& s, ImDrawList* draw, float left, float top, float width) {
  const std::vector<PhaseSpan> spans = s.timeline().Spans();
  const double last = static_cast<double>(std::max<std::uint64_t>(s.position(), 1));
  draw->AddRectFilled(ImVec2(left, top + 16), ImVec2(left + width, top + kTimelineHeight - 8),
                      IM_COL32(40, 40, 46, 255));
  for (const PhaseSpan& span : spans) {
    const float x0 =
        left + width * static_cast<float>(static_cast<double>(span.begin_event) / last);
    const float x1 = std::max(
        x0 + 1, left + width * static_cast<float>(static_cast<double>(span.end_event) / last));
    draw->AddRectFilled(ImVec2(x0, top + 16), ImVec2(x1, top + kTimelineHeight - 8),
                        ToImColor(ColorOf(span.phase)));
  }
  draw->AddText(ImVec2(left, top), IM_COL32(230, 230, 230, 255),
                absl::StrCat(s.timeline().finished(), " collections").c_str());
}

}  // namespace

bool DrawControls(std::vector<std::unique_ptr<ReplaySession>>& sessions, ViewState& view) {
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(io.DisplaySize.x, kControlsHeight));
  ImGui::Begin("controls", nullptr,
               ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoMove);
  bool seek_back = false;
  if (ImGui::Button(view.playing ? "Pause" : "Play")) view.playing = !view.playing;
  ImGui::SameLine();
  if (ImGui::Button("Step 1")) view.target += 1;
  ImGui::SameLine();
  if (ImGui::Button("Step 1000")) view.target += 1000;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(160);
  ImGui::SliderInt("events/frame", &view.events_per_frame, 1, 200000, "%d",
                   ImGuiSliderFlags_Logarithmic);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(140);
  ImGui::InputScalar("##seek", ImGuiDataType_U64, &view.seek);
  ImGui::SameLine();
  if (ImGui::Button("Seek")) {
    seek_back = view.seek < view.target;
    view.target = view.seek;
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(100);
  ImGui::SliderInt("zoom", &view.tile_pixels, 1, 24);
  for (const auto& s : sessions) {
    const absl::Status status = s->status();
    ImGui::Text("%s", absl::StrCat(s->policy(), ": event ", s->position(),
                                   s->at_end() ? " (end of trace)" : "", ", footprint ",
                                   Bytes(s->footprint()),
                                   status.ok() ? "" : absl::StrCat(", ", status.message()))
                          .c_str());
  }
  ImGui::End();
  return seek_back;
}

void DrawMaps(std::vector<std::unique_ptr<ReplaySession>>& sessions, ViewState& view,
              std::vector<DrawnTile>* drawn) {
  const ImGuiIO& io = ImGui::GetIO();
  const float top = kControlsHeight;
  const float height = io.DisplaySize.y - top - kLegendHeight - kTimelineHeight - kChartHeight;
  const float pane_width =
      io.DisplaySize.x / static_cast<float>(std::max<std::size_t>(sessions.size(), 1));
  ImDrawList* draw = ImGui::GetBackgroundDrawList();
  std::size_t shown[core::kSegmentTypeCount] = {};
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    ReplaySession& s = *sessions[i];
    const float left = pane_width * static_cast<float>(i);
    draw->AddText(ImVec2(left + 8, top + 4), IM_COL32(230, 230, 230, 255), s.policy().c_str());
    const core::Arena* arena = s.arena();
    if (arena == nullptr) {
      draw->AddText(ImVec2(left + 8, top + 24), IM_COL32(200, 200, 200, 255),
                    "(no arena: a system allocator)");
      continue;
    }
    DrawChart(s, draw, left + 8, top + height, pane_width - 16);
    DrawTimeline(s, draw, left + 8, top + height + kChartHeight, pane_width - 16);
    const float px = static_cast<float>(view.tile_pixels);
    const float map_top = top + 24;
    const std::size_t columns =
        std::max<std::size_t>(1, static_cast<std::size_t>((pane_width - 16) / px));
    const std::size_t rows = std::max<std::size_t>(1, static_cast<std::size_t>((height - 24) / px));
    const ArenaMap map = BuildArenaMap(*arena, columns, columns * rows);
    bool seen[core::kSegmentTypeCount] = {};
    for (std::size_t t = 0; t < map.tiles.size(); ++t) {
      const Tile& tile = map.tiles[t];
      const float x = left + 8 + static_cast<float>(t % columns) * px;
      const float y = map_top + static_cast<float>(t / columns) * px;
      const float gap = px >= 4 ? 1 : 0;
      draw->AddRectFilled(ImVec2(x, y), ImVec2(x + px - gap, y + px - gap), ToImColor(tile.color));
      if (tile.range.base == view.selected) {
        draw->AddRect(ImVec2(x - 1, y - 1), ImVec2(x + px, y + px), IM_COL32(255, 255, 255, 255));
      }
      const int type = static_cast<int>(tile.type);
      if (!seen[type] && drawn != nullptr) {
        drawn->push_back(DrawnTile{s.policy(), tile.type, x + (px - gap) / 2, y + (px - gap) / 2});
      }
      seen[type] = true;
      ++shown[type];
    }
    // Hover and click: the tile under the mouse.
    const ImVec2 mouse = io.MousePos;
    if (mouse.x >= left + 8 && mouse.y >= map_top) {
      const std::size_t c = static_cast<std::size_t>((mouse.x - left - 8) / px);
      const std::size_t r = static_cast<std::size_t>((mouse.y - map_top) / px);
      if (const Tile* tile = c < columns ? TileAt(map, c, r) : nullptr) {
        ImGui::SetTooltip("%s", DescribeTile(map, *tile).c_str());
        if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) view.selected = tile->range.base;
      }
    }
  }
  // The legend: the types on screen.
  float x = 8;
  const float y = io.DisplaySize.y - kLegendHeight + 8;
  for (int t = 0; t < core::kSegmentTypeCount; ++t) {
    if (shown[t] == 0) continue;
    const auto type = static_cast<core::SegmentType>(t);
    draw->AddRectFilled(ImVec2(x, y), ImVec2(x + 14, y + 14), ToImColor(ColorOf(type, true)));
    const char* name = core::SegmentTypeName(type);
    draw->AddText(ImVec2(x + 18, y), IM_COL32(230, 230, 230, 255), name);
    x += 30 + ImGui::CalcTextSize(name).x;
    if (x > io.DisplaySize.x - 150) break;
  }
}

}  // namespace viz
