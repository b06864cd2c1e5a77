#!/usr/bin/env bash
# Regenerates traces/samples/: traces of real programs on this machine,
# recorded with `workbench record`, and their README (commands, versions,
# events, peak live bytes). The commands are fixed; the traces differ from
# run to run only as the programs' own allocations do (timing, hashing).
#   tools/capture_samples.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bazel build --config=opt --noshow_progress --ui_event_filters=-info,-stdout \
  //tools/cli:workbench >&2
workbench="$(bazel info --config=opt bazel-bin 2>/dev/null)/tools/cli/workbench"
out="$root/traces/samples"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/*.trace.zst

# Inputs the commands work on, made the same way every time.
git clone --quiet --no-local "$root" "$tmp/repo"
seq 1 200000 | sed 's/$/ the quick brown fox jumps over the lazy dog/' >"$tmp/text.txt"

rows=()
# The command as one would type it: arguments with shell syntax in quotes.
shell_words() {
  local word words=()
  for word in "$@"; do
    if [[ $word =~ ^[A-Za-z0-9_./=:,+-]+$ ]]; then
      words+=("$word")
    else
      words+=("'${word//\'/\'\\\'\'}'")
    fi
  done
  echo "${words[*]}"
}

# record NAME VERSION PROGRAM_SUFFIX -- COMMAND...: records COMMAND (following
# its children) and keeps the trace of the process whose executable ends in
# PROGRAM_SUFFIX as traces/samples/NAME.trace.zst.
record() {
  local name=$1 version=$2 suffix=$3
  shift 4
  "$workbench" record --follow_forks --format=csv -o "$tmp/$name.trace.zst" \
    -- "$@" >/dev/null 2>"$tmp/$name.csv"
  # trace,pid,program,events,allocs,frees,reallocs,threads,peak live
  local row
  row=$(grep -E "^[^,]*,[0-9]+,[^,]*${suffix}," "$tmp/$name.csv" | sort -t, -k4 -n | tail -1)
  [[ -n "$row" ]] || { echo "no trace of *$suffix in:" >&2; cat "$tmp/$name.csv" >&2; exit 1; }
  IFS=, read -r trace _ program events _ _ _ threads peak <<<"$row"
  mv "$trace" "$out/$name.trace.zst"
  local command
  command=$(shell_words "$@")
  command=${command//$tmp\//}
  command=${command//|/\\|}
  rows+=("| \`$name.trace.zst\` | \`$command\` | $version | \`$program\` | $events | $threads | $peak |")
  echo "$name: $events events, peak live $peak bytes" >&2
}

record gxx-cc1plus "$(g++ --version | head -1)" cc1plus -- \
  g++ -std=c++20 -O2 -I. -c replay/event.cc -o /dev/null
# PYTHONMALLOC=malloc: every Python object through malloc, not pymalloc.
record python-json "$(/usr/bin/python3 --version)" python3.11 -- \
  env PYTHONMALLOC=malloc /usr/bin/python3 -c 'import json; d = {str(i): [i, str(i) * 3] for i in range(10000)}; print(len(json.loads(json.dumps(d))))'
record perl-hash "perl $(perl -e 'print $^V')" perl -- \
  perl -e 'my %h; $h{$_ x 3} = [$_] for 1..30000; print scalar(sort keys %h), "\n"'
record git-log "$(git --version)" git -- \
  git -C "$tmp/repo" log --stat -n 300
record sort-text "$(sort --version | head -1)" sort -- \
  sort -k2 -S 8M "$tmp/text.txt" -o "$tmp/sorted.txt"
record xz-compress "$(xz --version | head -1)" xz -- \
  xz -6 -T2 -k -c "$tmp/text.txt"

{
  cat <<'EOF'
# Sample traces of real programs

Recorded on this machine with `workbench record --follow_forks` by
[`tools/capture_samples.sh`](../../tools/capture_samples.sh), which
regenerates every file and this table. Each trace is of the one process
named in the program column (for `g++`, the compiler proper, `cc1plus`,
which the driver starts), run from the repository's root; paths of the
generated inputs (`repo`: a clone of this repository; `text.txt`: 200000
numbered lines) are relative to the script's scratch directory. Replay one with
`tools/workbench compare traces/samples/NAME.trace.zst --policy mvff`.

| trace | command | version | program | events | threads | peak live bytes |
| --- | --- | --- | --- | ---: | ---: | ---: |
EOF
  printf '%s\n' "${rows[@]}"
} >"$out/README.md"
du -ch "$out"/*.trace.zst | tail -1 >&2
