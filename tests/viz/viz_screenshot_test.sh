#!/usr/bin/env bash
# The visualizer's headless mode under Xvfb, checked by real pixels: for
# each segment type (and trace colour, mid-collection) the map drew, the
# pixel at that tile's position has that colour, as has the legend's key
# for a segregated cache's blocks; a manual policy shows
# manual segments, a collector its nursery; and bad input fails with a
# message.
set -uo pipefail
viz="$1" workbench="$2" probe="$3" palette_dump="$4"
tmp=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
command -v Xvfb >/dev/null || { echo "FAIL: Xvfb missing (tools/setup.sh installs xvfb)" >&2; exit 1; }
# Mesa's llvmpipe leaks at exit under LeakSanitizer (sanitizer builds):
# those leaks are not ours.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
# One X server for the whole script, on a display number it picks itself
# (-displayfd): xvfb-run per command was slower, and its clean-up of its
# temporary directory failed now and then, which changed exit codes.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$tmp/display" 2>"$tmp/xvfb.log" &
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null' EXIT
for _ in $(seq 100); do [[ -s "$tmp/display" ]] && break; sleep 0.1; done
[[ -s "$tmp/display" ]] || { echo "FAIL: Xvfb did not start: $(cat "$tmp/xvfb.log")" >&2; exit 1; }
export DISPLAY=":$(head -n1 "$tmp/display")"

"$palette_dump" >"$tmp/palette.txt"
colour() { awk -v t="$1" '$1 == t { print $2, $3, $4 }' "$tmp/palette.txt"; }

# Checks every "tile POLICY TYPE X Y" line of $1 against the PNG $2.
check_tiles() {
  local lines=0
  while read -r _ policy type x y; do
    lines=$((lines + 1))
    [[ "$type" == free ]] && continue  # Free tiles may be uncommitted (darker).
    got=$("$probe" "$2" "$x" "$y")
    [[ "$got" == "$(colour "$type")" ]] || fail "$policy: $type tile at $x,$y is $got, expected $(colour "$type")"
  done < <(grep '^tile ' "$1")
  ((lines > 0)) || fail "no tiles printed in $1"
}

"$workbench" gen --workload=phases --events=40000 --max_size=4096 -o "$tmp/p.trace" >/dev/null || fail "gen phases"
"$viz" "$tmp/p.trace" --policy mvff --policy mfs-classes --at 20000 \
  --screenshot "$tmp/manual.png" --print_tiles >"$tmp/manual.txt" 2>&1 || fail "viz manual: $(cat "$tmp/manual.txt")"
grep -q "^tile mvff manual-variable " "$tmp/manual.txt" || fail "no MVFF segment drawn: $(cat "$tmp/manual.txt")"
grep -q "^tile mfs-classes manual-fixed " "$tmp/manual.txt" || fail "no MFS segment drawn"
check_tiles "$tmp/manual.txt" "$tmp/manual.png"

# Behind a segregated cache, the legend has the cached blocks' key.
"$viz" "$tmp/p.trace" --policy 'mvff(sac_count=16)' --at 20000 \
  --screenshot "$tmp/sac.png" --print_tiles >"$tmp/sac.txt" 2>&1 || fail "viz sac: $(cat "$tmp/sac.txt")"
grep -q "^tile legend cached " "$tmp/sac.txt" || fail "no cached key drawn: $(cat "$tmp/sac.txt")"
check_tiles "$tmp/sac.txt" "$tmp/sac.png"

"$workbench" gen --workload=gcbench --gc_depth=10 -o "$tmp/g.trace" >/dev/null || fail "gen gcbench"
"$viz" "$tmp/g.trace" --policy 'amc(chain=256k,1m)' --policy 'ams(collect_after=256k)' \
  --at 30000 --screenshot "$tmp/gc.png" --print_tiles >"$tmp/gc.txt" 2>&1 || fail "viz gc: $(cat "$tmp/gc.txt")"
grep -q "^tile amc(chain=256k,1m) nursery " "$tmp/gc.txt" || fail "no AMC nursery drawn: $(cat "$tmp/gc.txt")"
grep -q "^tile ams(collect_after=256k) mark-sweep " "$tmp/gc.txt" || fail "no AMS segment drawn"
check_tiles "$tmp/gc.txt" "$tmp/gc.png"

# Stopped mid-collection (incremental, two phase changes in: scanning),
# the map shows condemned and black memory in their own colours.
inc='(chain=256k;1m,incremental=true,budget=4k,share=1)'
"$viz" "$tmp/g.trace" --policy "amc$inc" --policy "ams${inc/chain=256k;1m/collect_after=256k}" \
  --at 20000 --step=phase --steps=2 --screenshot "$tmp/mid.png" --print_tiles >"$tmp/mid.txt" 2>&1 ||
  fail "viz mid-collection: $(cat "$tmp/mid.txt")"
grep -q "^collections amc.* phase \(scan-grey\|reclaim\)" "$tmp/mid.txt" ||
  fail "AMC not stopped mid-collection: $(cat "$tmp/mid.txt")"
grep -q "^tile amc.* color:\(forwarded\|condemned\) " "$tmp/mid.txt" ||
  fail "no condemned AMC memory drawn: $(cat "$tmp/mid.txt")"
grep -q "^tile amc.* color:black " "$tmp/mid.txt" || fail "no black AMC memory drawn"
grep -q "^tile ams.* color:condemned " "$tmp/mid.txt" || fail "no condemned AMS memory drawn"
check_tiles "$tmp/mid.txt" "$tmp/mid.png"
err=$("$viz" "$tmp/g.trace" --step=sideways --screenshot "$tmp/x.png" 2>&1)
[[ $? == 2 && "$err" == *"--step"* ]] || fail "bad --step: $err"

# The timeline counts the collections a replay made: replayed to the end,
# the same number as `workbench replay` reports. (No comma in the spec:
# the CSV is read with awk.)
"$viz" "$tmp/g.trace" --policy 'amc(chain=256k;1m)' --at 100000000 \
  --screenshot "$tmp/all.png" --print_tiles >"$tmp/all.txt" 2>&1 || fail "viz to the end"
shown=$(awk '$1 == "collections" { print $3 }' "$tmp/all.txt")
replayed=$("$workbench" replay "$tmp/g.trace" --policy 'amc(chain=256k;1m)' --format=csv |
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "collections") c = i } NR == 2 { print $c }')
[[ -n "$shown" && "$shown" == "$replayed" && "$shown" -gt 0 ]] ||
  fail "timeline shows $shown collections, replay made $replayed"

# Through workbench, and bad input.
"$workbench" viz "$tmp/p.trace" --at 100 --screenshot "$tmp/w.png" >/dev/null 2>&1 ||
  fail "workbench viz exited $?"
[[ -s "$tmp/w.png" ]] || fail "workbench viz wrote no PNG"
err=$("$viz" "$tmp/missing.trace" --screenshot "$tmp/x.png" 2>&1)
[[ $? == 1 && "$err" == *"missing.trace"* ]] || fail "missing trace: $err"
head -c 3000 "$tmp/p.trace" >"$tmp/cut.trace"
err=$("$viz" "$tmp/cut.trace" --at 1000 --screenshot "$tmp/x.png" 2>&1)
[[ $? == 1 && "$err" == *"cut.trace"*"truncated"* ]] || fail "truncated trace: $err"
err=$("$viz" "$tmp/p.trace" --policy 'mvff(colour=red)' --screenshot "$tmp/x.png" 2>&1)
[[ $? == 1 && "$err" == *"unknown argument 'colour'"* ]] || fail "bad policy: $err"

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "viz screenshots: all checks passed"
