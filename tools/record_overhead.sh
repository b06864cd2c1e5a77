#!/usr/bin/env bash
# Measures what recording costs: each workload runs plain, with librecord.so
# preloaded (the program while recorded), under `workbench record` (the
# program plus converting its log into a trace), and under heaptrack.
# Prints seconds (median of RUNS runs) and the ratio to the plain run.
#   tools/record_overhead.sh            # RUNS=5
#   RUNS=3 tools/record_overhead.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs=${RUNS:-5}
bazel build --config=opt --noshow_progress --ui_event_filters=-info,-stdout \
  //tools/cli:workbench //traces/capture:churn >&2
bin="$(bazel info --config=opt bazel-bin 2>/dev/null)"
workbench="$bin/tools/cli/workbench"
lib="$bin/traces/capture/librecord.so"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
command -v heaptrack >/dev/null || echo "heaptrack not found (tools/setup.sh installs it)" >&2

# Median wall-clock seconds of running "$@" $runs times.
median() {
  local times=() start end
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')")
    rm -rf "$tmp"/run && mkdir -p "$tmp"/run
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {printf "%.3f", a[int((NR + 1) / 2)]}'
}

preloaded() {
  WORKBENCH_RECORD_DIR="$tmp/run" WORKBENCH_RECORD_FOLLOW=1 LD_PRELOAD="$lib" "$@"
}
recorded() { "$workbench" record -o "$tmp/run/out.trace.zst" -- "$@"; }
heaptracked() { heaptrack -o "$tmp/run/heaptrack" "$@"; }

# The workloads: a malloc-heavy C loop (about 25 ns of work per call, the
# worst case for any recorder), Perl filling a hash, Python building and
# parsing JSON (with PYTHONMALLOC=malloc, so that every object is malloc'd).
export PYTHONMALLOC=malloc
cat >"$tmp/json_work.py" <<'PY'
import json
for _ in range(5):
    json.loads(json.dumps({str(i): [i] * 20 for i in range(20000)}))
PY
cat >"$tmp/hash_work.pl" <<'PL'
my %h;
$h{$_ x 3} = [$_] for 1 .. 300000;
print scalar(keys %h), "\n";
PL
declare -A workloads=(
  [churn]="$bin/traces/capture/churn.bin 4000000"
  [perl-hash]="/usr/bin/perl $tmp/hash_work.pl"
  [python-json]="/usr/bin/python3 $tmp/json_work.py"
)

printf '%-12s  %-18s  %8s  %9s\n' workload run seconds "x plain"
printf '%-12s  %-18s  %8s  %9s\n' ------------ ------------------ -------- ---------
for name in churn perl-hash python-json; do
  read -r -a command <<<"${workloads[$name]}"
  set -- "${command[@]}"
  plain=$(median "$@")
  printf '%-12s  %-18s  %8s  %9s\n' "$name" plain "$plain" 1.00
  for run in preloaded recorded heaptracked; do
    [[ $run == heaptracked ]] && ! command -v heaptrack >/dev/null && continue
    t=$(median "$run" "$@")
    label=$run
    case $run in
      preloaded) label="librecord.so only" ;;
      recorded) label="workbench record" ;;
      heaptracked) label="heaptrack" ;;
    esac
    printf '%-12s  %-18s  %8s  %9.2f\n' "$name" "$label" "$t" "$(awk -v a="$t" -v b="$plain" 'BEGIN {print a / b}')"
  done
done
