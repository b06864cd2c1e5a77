#!/usr/bin/env bash
# Real heaptrack captures, made here: our test programs, /bin/ls and sort.
# For each, `workbench stats` of the imported trace must report the same
# number of allocation calls and the same peak heap consumption as
# heaptrack_print on the original file (which prints the peak rounded, as
# "477.79K": we format ours the same way, and also compare it exactly with a
# small awk model of heaptrack's own accounting of the file).
# Skipped when heaptrack is not installed (tools/setup.sh installs it).
set -uo pipefail
workbench="$1"
shift
tmp=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

if ! command -v heaptrack >/dev/null || ! command -v heaptrack_print >/dev/null; then
  echo "SKIPPED: heaptrack is not installed (tools/setup.sh installs it)"
  exit 0
fi

# heaptrack_print's formatBytes: 1000-based units, two decimals, bytes bare.
heaptrack_bytes() {
  awk -v b="$1" 'BEGIN { u = "BKMGT"; i = 1; x = b
    while (i < 5 && (x > 1000 || x < -1000)) { x /= 1000; i++ }
    if (i == 1) printf "%dB\n", b; else printf "%.2f%s\n", x, substr(u, i, 1) }'
}

# heaptrack's accounting (accumulatedtracedata.cpp): '+' adds its info's
# size and counts a call, '-' subtracts it; the peak is the running maximum.
awk_model() {
  awk 'function hex(s,  i, v) { v = 0; s = tolower(s)
         for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
         return v }
       $1 == "a" { size[n++] = hex($2) }
       $1 == "+" { cur += size[hex($2)]; calls++; if (cur > peak) peak = cur }
       $1 == "-" { cur -= size[hex($2)] }
       END { printf "%d %d\n", calls, peak }'
}

check() {
  local name="$1"
  shift
  (cd "$tmp" && heaptrack -o "$tmp/$name" "$@" >"$tmp/$name.log" 2>&1) ||
    { fail "$name: heaptrack $* exited $?: $(tail -5 "$tmp/$name.log")"; return; }
  local file
  file=$(ls "$tmp/$name".{zst,gz} 2>/dev/null | head -1)
  [[ -n "$file" ]] || { fail "$name: heaptrack wrote no file: $(tail -5 "$tmp/$name.log")"; return; }
  local printed calls peak
  printed=$(heaptrack_print -p 0 -a 0 -T 0 "$file" 2>&1)
  calls=$(sed -n 's/^calls to allocation functions: \([0-9]*\) .*/\1/p' <<<"$printed")
  peak=$(sed -n 's/^peak heap memory consumption: //p' <<<"$printed")
  [[ -n "$calls" && -n "$peak" ]] || { fail "$name: heaptrack_print said: $printed"; return; }

  "$workbench" import heaptrack "$file" -o "$tmp/$name.trace" >/dev/null ||
    { fail "$name: import exited $?"; return; }
  local stats our_calls our_peak model
  stats=$("$workbench" stats "$tmp/$name.trace" --format=csv) || { fail "$name: stats exited $?"; return; }
  our_calls=$(sed -n 's/^summary,allocation calls,//p' <<<"$stats")
  our_peak=$(sed -n 's/^summary,peak live bytes,//p' <<<"$stats")
  case "$file" in
    *.zst) model=$(zstd -dc "$file" | awk_model) ;;
    *) model=$(gzip -dc "$file" | awk_model) ;;
  esac
  echo "$name: heaptrack_print: $calls calls, peak $peak; workbench stats: $our_calls calls," \
    "peak $our_peak bytes ($(heaptrack_bytes "$our_peak")); heaptrack's accounting: $model"
  [[ "$our_calls" == "$calls" ]] || fail "$name: allocation calls $our_calls != heaptrack_print's $calls"
  [[ "$(heaptrack_bytes "$our_peak")" == "$peak" ]] ||
    fail "$name: peak $our_peak ($(heaptrack_bytes "$our_peak")) != heaptrack_print's $peak"
  [[ "$model" == "$our_calls $our_peak" ]] || fail "$name: exact model says $model"
}

for prog in "$@"; do
  check "$(basename "$prog" .bin)" "$PWD/$prog"
done
check ls /bin/ls -lR /usr/include/absl
seq 20000 | sed 's/^\(.\)\(.*\)/\2\1 line/' >"$tmp/lines.txt"
check sort sort -o "$tmp/sorted.txt" "$tmp/lines.txt"

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "heaptrack captures: all checks passed"
