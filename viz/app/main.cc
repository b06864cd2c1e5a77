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
#include <cfloat>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "viz/app/panels.h"
#include "viz/app/screenshot.h"
#include "viz/app/view_state.h"
#include "viz/model/replay_session.h"
#include "viz/model/time_travel.h"

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
          "tile of each segment type and trace colour was drawn (policy, what, x, y), for tests.");
ABSL_FLAG(std::string, step, "",
          "With --screenshot: after --at, step to the next 'phase' change or 'collection' end "
          "of the first collecting policy (--steps times), the others following.");
ABSL_FLAG(int, steps, 1, "How many --step steps.");
ABSL_FLAG(std::string, hover, "",
          "With --screenshot: 'X,Y', the mouse is there (window pixels), so the picture shows "
          "what hovering there shows; otherwise it is outside the window.");
ABSL_FLAG(std::string, window, "",
          "'FIRST_GRAIN,GRAINS_PER_TILE': start zoomed in on that part of the arena (the "
          "mouse wheel and dragging do this in the window).");
ABSL_FLAG(std::uint64_t, checkpoint_every, 1000000,
          "Events between time-travel checkpoints (seeking back replays from the nearest).");
ABSL_FLAG(int, max_checkpoints, 4, "Checkpoints kept per policy.");

namespace {

using viz::ReplaySession;

std::vector<std::unique_ptr<viz::TimeTravel>> StartAll(const std::string& trace,
                                                       const std::vector<std::string>& policies,
                                                       std::string* error) {
  const viz::TimeTravelOptions options{.interval = absl::GetFlag(FLAGS_checkpoint_every),
                                       .max_checkpoints = static_cast<std::size_t>(
                                           std::max(absl::GetFlag(FLAGS_max_checkpoints), 0))};
  std::vector<std::unique_ptr<viz::TimeTravel>> replays;
  for (const std::string& policy : policies) {
    absl::StatusOr<std::unique_ptr<viz::TimeTravel>> r =
        viz::TimeTravel::Start(trace, policy, options);
    if (!r.ok()) {
      *error = absl::StrCat(policy, ": ", r.status().message());
      return {};
    }
    replays.push_back(*std::move(r));
  }
  return replays;
}

// The replays on screen.
std::vector<ReplaySession*> Live(const std::vector<std::unique_ptr<viz::TimeTravel>>& replays) {
  std::vector<ReplaySession*> live;
  for (const auto& r : replays) live.push_back(&r->live());
  return live;
}

// Steps the first collecting replay towards `goal`; once it is there, the
// others are let through to the same event. Returns true when done.
bool StepTowards(const std::vector<ReplaySession*>& sessions, ReplaySession::StepGoal goal,
                 bool* started, viz::ViewState& view) {
  auto driver = std::find_if(sessions.begin(), sessions.end(),
                             [](const ReplaySession* s) { return s->collects(); });
  if (driver == sessions.end()) return true;
  if (!*started) {
    (*driver)->StepUntil(goal);
    *started = true;
    return false;
  }
  if ((*driver)->stepping()) return false;
  view.target = (*driver)->position();
  for (ReplaySession* s : sessions) s->AdvanceTo(view.target);
  return true;
}

// One frame. `mouse`, if given, stands in for the real mouse (headless
// pictures).
void Frame(GLFWwindow* window, const std::vector<ReplaySession*>& sessions,
           std::vector<viz::PaneCache>& caches, viz::ViewState& view,
           std::vector<viz::DrawnTile>* drawn, std::optional<ImVec2> mouse = std::nullopt) {
  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();  // ImGui 1.86: sets io.MousePos, which we may override.
  if (mouse) ImGui::GetIO().MousePos = *mouse;
  ImGui::NewFrame();
  viz::DrawControls(sessions, caches, view);
  viz::DrawPanes(sessions, caches, view, drawn);
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
  const std::string step = absl::GetFlag(FLAGS_step);
  // Outside the window unless --hover puts it somewhere.
  ImVec2 mouse(-FLT_MAX, -FLT_MAX);
  if (const std::string hover = absl::GetFlag(FLAGS_hover); !hover.empty()) {
    std::pair<std::string, std::string> xy = absl::StrSplit(hover, ',');
    if (!absl::SimpleAtof(xy.first, &mouse.x) || !absl::SimpleAtof(xy.second, &mouse.y)) {
      std::fprintf(stderr, "workbench viz: --hover is X,Y in pixels, not '%s'\n", hover.c_str());
      return 2;
    }
  }
  if (!step.empty() && step != "phase" && step != "collection") {
    std::fprintf(stderr, "workbench viz: --step is 'phase' or 'collection', not '%s'\n",
                 step.c_str());
    return 2;
  }
  std::vector<std::unique_ptr<viz::TimeTravel>> replays = StartAll(trace, policies, &error);
  if (replays.empty()) {
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
  if (const std::string window = absl::GetFlag(FLAGS_window); !window.empty()) {
    std::pair<std::string, std::string> parts = absl::StrSplit(window, ',');
    if (!absl::SimpleAtoi(parts.first, &view.window.first_grain) ||
        !absl::SimpleAtoi(parts.second, &view.window.grains_per_tile)) {
      std::fprintf(stderr, "workbench viz: --window is FIRST_GRAIN,GRAINS_PER_TILE, not '%s'\n",
                   window.c_str());
      return 2;
    }
  }
  std::vector<ReplaySession*> sessions = Live(replays);
  std::vector<viz::PaneCache> caches(sessions.size());
  for (ReplaySession* s : sessions) s->AdvanceTo(view.target);
  int exit_code = 0;
  const std::string screenshot = absl::GetFlag(FLAGS_screenshot);
  if (!screenshot.empty()) {
    const auto start = std::chrono::steady_clock::now();
    for (ReplaySession* s : sessions) s->WaitUntil(view.target, std::chrono::minutes(10));
    const double replay_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::uint64_t replayed = 0;
    for (ReplaySession* s : sessions) replayed += s->position();
    std::printf("replayed %llu events in %.3f s (%.2fM events/s)\n",
                static_cast<unsigned long long>(replayed), replay_seconds,
                replay_seconds > 0 ? static_cast<double>(replayed) / replay_seconds / 1e6 : 0);
    if (!step.empty()) {
      const auto goal = step == "phase" ? ReplaySession::StepGoal::kPhaseChange
                                        : ReplaySession::StepGoal::kCollectionEnd;
      for (int i = 0; i < absl::GetFlag(FLAGS_steps); ++i) {
        bool started = false;
        while (!StepTowards(sessions, goal, &started, view)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        for (ReplaySession* s : sessions) s->WaitUntil(view.target, std::chrono::minutes(10));
      }
    }
    for (ReplaySession* s : sessions) {
      if (!s->status().ok()) {
        std::fprintf(stderr, "workbench viz: %s: %s\n", s->policy().c_str(),
                     std::string(s->status().message()).c_str());
        exit_code = 1;
      }
    }
    // Parked at their targets; a replay thread parks just after it reports
    // the last event dispatched.
    for (ReplaySession* s : sessions) {
      for (int i = 0; i < 1000 && !s->Inspect(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    std::vector<viz::DrawnTile> drawn;
    if (const int frames = absl::GetFlag(FLAGS_benchmark_frames); frames > 0) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int f = 0; f < frames; ++f) {
        Frame(window, sessions, caches, view, nullptr, mouse);
        glfwSwapBuffers(window);
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("drew %d frames in %.3f s: %.1f frames/s\n", frames, seconds, frames / seconds);
    }
    Frame(window, sessions, caches, view, nullptr, mouse);  // ImGui lays out on the first frame.
    Frame(window, sessions, caches, view, &drawn, mouse);
    int w, h;
    glfwGetFramebufferSize(window, &w, &h);
    if (absl::Status s = viz::SaveScreenshot(screenshot, w, h); !s.ok()) {
      std::fprintf(stderr, "workbench viz: %s\n", std::string(s.message()).c_str());
      exit_code = 1;
    } else {
      std::uint64_t at = view.target;  // Where the replays got to (a trace may end sooner).
      for (ReplaySession* session : sessions) at = std::min(at, session->position());
      std::printf("wrote %s (%dx%d) at event %llu\n", screenshot.c_str(), w, h,
                  static_cast<unsigned long long>(at));
    }
    if (absl::GetFlag(FLAGS_print_tiles)) {
      for (ReplaySession* session : sessions) {
        std::printf("collections %s %llu phase %s\n", session->policy().c_str(),
                    static_cast<unsigned long long>(session->timeline().finished()),
                    core::gc::PhaseName(session->timeline().phase()));
      }
      for (const viz::DrawnTile& t : drawn) {
        std::printf("tile %s %s %.0f %.0f\n", t.policy.c_str(), t.what.c_str(), t.x, t.y);
      }
    }
  } else {
    bool step_started = false;
    while (!glfwWindowShouldClose(window)) {
      glfwPollEvents();
      if (view.seek_requested) {
        // Time travel: each policy seeks from its nearest checkpoint.
        view.seek_requested = false;
        for (auto& r : replays) {
          if (absl::StatusOr<std::uint64_t> from = r->Seek(view.target); !from.ok()) {
            std::fprintf(stderr, "workbench viz: %s\n",
                         std::string(from.status().message()).c_str());
          }
        }
        sessions = Live(replays);
        caches.assign(sessions.size(), viz::PaneCache{});
      }
      if (view.step_goal && StepTowards(sessions, *view.step_goal, &step_started, view)) {
        view.step_goal.reset();
        step_started = false;
      }
      if (view.playing) view.target += static_cast<std::uint64_t>(view.events_per_frame);
      if (!view.step_goal) {
        for (ReplaySession* s : sessions) s->AdvanceTo(view.target);
      }
      for (auto& r : replays) {
        if (absl::Status st = r->Maintain(); !st.ok()) {
          std::fprintf(stderr, "workbench viz: %s\n", std::string(st.message()).c_str());
        }
      }
      Frame(window, sessions, caches, view, nullptr);
      glfwSwapBuffers(window);
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}
