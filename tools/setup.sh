#!/usr/bin/env bash
# Installs every Debian package the project needs. Idempotent; a quick no-op
# (one dpkg-query call) when everything is already installed. Runs
# `apt-get update` only when something is missing.
#
# Usage: tools/setup.sh
set -euo pipefail

PACKAGES=(
  # Build system: Debian's Bazel 4.2.3 and its @platforms repository.
  bazel-bootstrap bazel-platforms
  # Compilers (clang is also needed for libFuzzer).
  g++ clang
  # libFuzzer and the sanitizer runtimes for clang (tests/replay/fuzz).
  libclang-rt-14-dev
  # Libraries wrapped in //third_party (see third_party/BUILD.bazel).
  libabsl-dev libprotobuf-dev protobuf-compiler libzstd-dev zlib1g-dev
  # Testing and benchmarking.
  libgtest-dev libgmock-dev libbenchmark-dev
  # Tools.
  zstd clang-format
  # The system allocators replayed as baselines (LD_PRELOAD'ed into the
  # replay child) and the Boehm collector (the GC baseline).
  libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 libgc-dev
  # Capture and import: heaptrack (its traces are imported and its overhead
  # compared with `workbench record`).
  heaptrack
  # SVG -> PNG for looking at plots; the visualizer's GUI and headless display.
  librsvg2-bin libglfw3-dev libimgui-dev libstb-dev xvfb xauth
  # Mesa's software OpenGL (llvmpipe), which draws the visualizer under Xvfb.
  libgl1-mesa-dri
)

# Packages that are fully installed (unknown packages only warn on stderr).
installed_ok=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
  awk '$2 == "install" && $3 == "ok" && $4 == "installed" { print $1 }' || true)
missing=()
for pkg in "${PACKAGES[@]}"; do
  grep -qx -- "$pkg" <<<"$installed_ok" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup.sh: installing missing Debian packages: ${missing[*]}" >&2
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup.sh: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q -o DPkg::Lock::Timeout=600)
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" update
"${SUDO[@]}" apt-get "${APT_OPTS[@]}" install "${missing[@]}"
