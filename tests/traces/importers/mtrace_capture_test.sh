#!/usr/bin/env bash
# A real glibc mtrace capture: runs mtrace_prog with MALLOC_TRACE (glibc 2.36
# moved mtrace into libc_malloc_debug.so.0, which must be preloaded or
# mtrace() does nothing), imports the log and checks the exact events.
set -uo pipefail
workbench="$1"
prog="$2"
tmp=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

MALLOC_TRACE="$tmp/mtrace.txt" LD_PRELOAD=libc_malloc_debug.so.0 "$prog" || fail "mtrace_prog exited $?"
[[ -s "$tmp/mtrace.txt" ]] || { echo "FAIL: no mtrace log (is libc_malloc_debug.so.0 installed?)" >&2; exit 1; }
grep -q '^@ .*\] + 0x' "$tmp/mtrace.txt" || fail "log has no '@ caller' lines: $(cat "$tmp/mtrace.txt")"

out=$("$workbench" import mtrace "$tmp/mtrace.txt" -o "$tmp/m.trace") || fail "import exited $?"
[[ "$out" == *": 12 events from 16 lines" ]] || fail "import said: $out"
events=$("$workbench" dump "$tmp/m.trace" | grep -v '^#' | sed 's/ site=[0-9]*$//')
expected="alloc 1 100
alloc 2 32
realloc 1 3 4000
realloc 3 3 1000
alloc 4 50
free 2
alloc 5 32
alloc 6 256
free 3
free 5
free 4
free 6"
[[ "$events" == "$expected" ]] || fail "events differ from mtrace_prog.c's comments:
$events"
# Every line has its own caller, so the sites are 1..12 in order.
sites=$("$workbench" dump "$tmp/m.trace" | grep -o 'site=[0-9]*' | tr '\n' ' ')
[[ "$sites" == "site=1 site=2 site=3 site=4 site=5 site=6 site=7 site=8 site=9 site=10 site=11 site=12 " ]] ||
  fail "sites: $sites"
stats=$("$workbench" stats "$tmp/m.trace" --format=csv)
grep -qx 'summary,allocation calls,7' <<<"$stats" || fail "allocation calls: $stats"
grep -qx 'summary,peak live bytes,4032' <<<"$stats" || fail "peak: $stats"

# A truncated log (cut inside the realloc pair) is an error naming the line.
head -n 4 "$tmp/mtrace.txt" >"$tmp/cut.txt"
err=$("$workbench" import mtrace "$tmp/cut.txt" -o "$tmp/cut.trace" 2>&1 >/dev/null)
[[ $? == 1 && "$err" == *"cut.txt: line 4: realloc of 0x"*"must be followed by"* ]] ||
  fail "truncated log: $err"
[[ ! -e "$tmp/cut.trace" ]] || fail "a failed import left its output"
out=$("$workbench" import mtrace "$tmp/cut.txt" -o "$tmp/cut.trace" --import_lenient 2>&1)
[[ $? == 0 && "$out" == *"1 bad lines skipped"* ]] || fail "lenient truncated log: $out"

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "mtrace capture: all checks passed"
