#!/usr/bin/env bash
# Builds and runs every test twice: default configuration, then --config=asan
# (AddressSanitizer + UndefinedBehaviorSanitizer). Ends with one line
#   N passed, N failed
# counting test targets over both runs, and exits non-zero if anything failed
# (a test, or a build/analysis error).
#
# Usage: tools/test.sh [bazel flags...] [target patterns...]
#   tools/test.sh                      # //... in both configurations
#   tools/test.sh //core/...           # only these targets
#   tools/test.sh --config=clang -k    # extra flags for both runs
# Benchmarks are cc_binary targets, so they are built but never run here.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/setup.sh || { echo "test.sh: tools/setup.sh failed" >&2; echo "0 passed, 1 failed"; exit 1; }

# Bazel keeps its cache under $HOME/.cache/bazel.
if [[ -z "${HOME:-}" ]]; then
  HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
  export HOME
fi

flags=()
targets=()
for arg in "$@"; do
  if [[ "$arg" == -* ]]; then flags+=("$arg"); else targets+=("$arg"); fi
done
((${#targets[@]})) || targets=(//...)

# Keep going past a broken target so one run reports every test it can.
flags=(--keep_going "${flags[@]}")

if [[ "${CI:-}" == "true" ]]; then
  flags=(--noshow_progress --curses=no --color=no --show_timestamps "${flags[@]}")
fi

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

passed=0
failed=0
skipped=0
status=0

# run NAME [bazel test flags...]
run() {
  local name=$1
  shift
  local log="$log_dir/$name.log"
  echo "=== bazel test $* ${flags[*]} ${targets[*]}" >&2
  bazel test "$@" "${flags[@]}" -- "${targets[@]}" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # Per-target summary lines, e.g.
  #   //tests/smoke:smoke_test        (cached) PASSED in 0.0s
  #   //core/x:y_test                 FAILED in 0.2s
  #   //core/x:z_test                 FAILED TO BUILD / NO STATUS / TIMEOUT in ...
  local p f s
  p=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -cE '^//[^ ]+ +(\(cached\) )?(PASSED|FLAKY)\b' || true)
  f=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|INCOMPLETE|REMOTE FAILURE)\b' || true)
  s=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -cE '^//[^ ]+ +(\(cached\) )?(NO STATUS|SKIPPED)\b' || true)
  case $rc in
    0) ;;
    4) echo "test.sh: [$name] no test targets in ${targets[*]}" >&2 ;;
    *)
      status=1
      # A build or analysis error that names no failing test still counts.
      ((f > 0)) || f=1
      ;;
  esac
  echo "test.sh: [$name] $p passed, $f failed, $s skipped (bazel exit $rc)" >&2
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
}

run default
run asan --config=asan

if ((failed > 0)); then status=1; fi
if ((skipped > 0)); then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
