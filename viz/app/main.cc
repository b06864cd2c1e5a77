// The visualizer: `workbench viz TRACE --policy SPEC [--policy SPEC]...`.
// Replays the trace through each policy in lockstep, each in a thread of
// its own, and draws their arena maps side by side while it runs. With
// --screenshot it replays to --at, draws one frame, writes a PNG and exits:
// the headless mode for tests and documentation (under xvfb-run).
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "viz/app/panels.h"
#include "viz/app/screenshot.h"
#include "viz/app/view_state.h"
#include "viz/model/replay_session.h"

ABSL_FLAG(std::uint64_t, at, 0, "Start (or, with --screenshot, stop) at this event.");
ABSL_FLAG(std::string, screenshot, "",
          "Replay to --at, draw one frame, write it to this PNG and exit (no interaction).");
ABSL_FLAG(int, width, 1280, "Window width in pixels.");
ABSL_FLAG(int, height, 800, "Window height in pixels.");
ABSL_FLAG(int, zoom, 6, "Side of one map tile in pixels (1-24).");
ABSL_FLAG(int, benchmark_frames, 0,
          "With --screenshot: also draw this many frames first and print the frame rate.");
ABSL_FLAG(bool, print_tiles, false,
          "With --screenshot: print each replay's collections so far, and where the first "
          "tile of each segment type was drawn (policy, type, x, y), for tests.");

namespace {

using viz::ReplaySession;

std::vector<std::unique_ptr<ReplaySession>> StartAll(const std::string& trace,
                                                     const std::vector<std::string>& policies,
                                                     std::string* error) {
  std::vector<std::unique_ptr<ReplaySession>> sessions;
  for (const std::string& policy : policies) {
    absl::StatusOr<std::unique_ptr<ReplaySession>> s = ReplaySession::Start(trace, policy);
    if (!s.ok()) {
      *error = absl::StrCat(policy, ": ", s.status().message());
      return {};
    }
    sessions.push_back(*std::move(s));
  }
  return sessions;
}

void Frame(GLFWwindow* window, std::vector<std::unique_ptr<ReplaySession>>& sessions,
           viz::ViewState& view, std::vector<viz::DrawnTile>* drawn, bool* seek_back) {
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
  *seek_back = viz::DrawControls(sessions, view);
  viz::DrawMaps(sessions, view, drawn);
  ImGui::Render();
  int w, h;
  glfwGetFramebufferSize(window, &w, &h);
  glViewport(0, 0, w, h);
  glClearColor(viz::kBackground.r / 255.f, viz::kBackground.g / 255.f, viz::kBackground.b / 255.f,
               1);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "workbench viz TRACE --policy SPEC [--policy SPEC]... [--at N] [--screenshot OUT.png]");
  // --policy repeats and holds commas: collected here, as in workbench.
  std::vector<char*> args = {argv[0]};
  std::vector<std::string> policies;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--policy=", 9) == 0) {
      policies.push_back(argv[i] + 9);
    } else if (std::strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
      policies.push_back(argv[++i]);
    } else {
      args.push_back(argv[i]);
    }
  }
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (positional.size() != 2) {
    std::fprintf(stderr, "workbench viz: expected one TRACE argument; see --help\n");
    return 2;
  }
  if (policies.empty()) policies.push_back("mvff");
  if (policies.size() > 4) {
    std::fprintf(stderr, "workbench viz: at most 4 policies side by side\n");
    return 2;
  }
  const std::string trace = positional[1];
  std::string error;
  std::vector<std::unique_ptr<ReplaySession>> sessions = StartAll(trace, policies, &error);
  if (sessions.empty()) {
    std::fprintf(stderr, "workbench viz: %s\n", error.c_str());
    return 1;
  }

  if (!glfwInit()) {
    std::fprintf(stderr,
                 "workbench viz: cannot open a window (no display?): run it under xvfb-run or "
                 "set DISPLAY\n");
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  const int width = absl::GetFlag(FLAGS_width), height = absl::GetFlag(FLAGS_height);
  GLFWwindow* window =
      glfwCreateWindow(width, height, ("workbench viz: " + trace).c_str(), nullptr, nullptr);
  if (window == nullptr) {
    std::fprintf(stderr, "workbench viz: cannot create an OpenGL 3.3 window\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  // No vsync when measuring frames or taking pictures.
  glfwSwapInterval(absl::GetFlag(FLAGS_screenshot).empty() ? 1 : 0);
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // No imgui.ini left behind.
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330");

  viz::ViewState view;
  view.target = view.seek = absl::GetFlag(FLAGS_at);
  view.tile_pixels = std::clamp(absl::GetFlag(FLAGS_zoom), 1, 24);
  for (auto& s : sessions) s->AdvanceTo(view.target);
  int exit_code = 0;
  const std::string screenshot = absl::GetFlag(FLAGS_screenshot);
  if (!screenshot.empty()) {
    const auto start = std::chrono::steady_clock::now();
    for (auto& s : sessions) {
      s->WaitUntil(view.target, std::chrono::minutes(10));
      if (!s->status().ok()) {
        std::fprintf(stderr, "workbench viz: %s: %s\n", s->policy().c_str(),
                     std::string(s->status().message()).c_str());
        exit_code = 1;
      }
    }
    const double replay_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::uint64_t replayed = 0;
    for (auto& s : sessions) replayed += s->position();
    std::printf("replayed %llu events in %.3f s (%.2fM events/s)\n",
                static_cast<unsigned long long>(replayed), replay_seconds,
                replay_seconds > 0 ? static_cast<double>(replayed) / replay_seconds / 1e6 : 0);
    std::vector<viz::DrawnTile> drawn;
    bool seek_back = false;
    if (const int frames = absl::GetFlag(FLAGS_benchmark_frames); frames > 0) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int f = 0; f < frames; ++f) {
        Frame(window, sessions, view, nullptr, &seek_back);
        glfwSwapBuffers(window);
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("drew %d frames in %.3f s: %.1f frames/s\n", frames, seconds, frames / seconds);
    }
    Frame(window, sessions, view, nullptr, &seek_back);  // ImGui lays out on the first frame.
    Frame(window, sessions, view, &drawn, &seek_back);
    int w, h;
    glfwGetFramebufferSize(window, &w, &h);
    if (absl::Status s = viz::SaveScreenshot(screenshot, w, h); !s.ok()) {
      std::fprintf(stderr, "workbench viz: %s\n", std::string(s.message()).c_str());
      exit_code = 1;
    } else {
      std::uint64_t at = view.target;  // Where the replays got to (a trace may end sooner).
      for (const auto& session : sessions) at = std::min(at, session->position());
      std::printf("wrote %s (%dx%d) at event %llu\n", screenshot.c_str(), w, h,
                  static_cast<unsigned long long>(at));
    }
    if (absl::GetFlag(FLAGS_print_tiles)) {
      for (const auto& session : sessions) {
        std::printf("collections %s %llu\n", session->policy().c_str(),
                    static_cast<unsigned long long>(session->timeline().finished()));
      }
      for (const viz::DrawnTile& t : drawn) {
        std::printf("tile %s %s %.0f %.0f\n", t.policy.c_str(), core::SegmentTypeName(t.type), t.x,
                    t.y);
      }
    }
  } else {
    while (!glfwWindowShouldClose(window)) {
      glfwPollEvents();
      if (view.playing) view.target += static_cast<std::uint64_t>(view.events_per_frame);
      for (auto& s : sessions) s->AdvanceTo(view.target);
      bool seek_back = false;
      Frame(window, sessions, view, nullptr, &seek_back);
      glfwSwapBuffers(window);
      if (seek_back) {
        // Time travel: replay again from the start (the one checkpoint).
        sessions.clear();
        sessions = StartAll(trace, policies, &error);
        if (sessions.empty()) break;
        for (auto& s : sessions) s->AdvanceTo(view.target);
      }
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}
