#!/usr/bin/env bash
# Runs the real workbench binary: default job, formats, --help, and errors
# (bad flags, an exhausted commit limit) with their exit codes and messages.
set -uo pipefail
workbench="$1"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

out=$("$workbench" pools --ops=20000 --live=200) || fail "pools exited $?"
for pool in mfs mvff node-slice; do
  grep -q "^$pool " <<<"$out" || fail "no row for $pool in: $out"
done

json=$("$workbench" pools --pools=mvff --ops=5000 --format=json) || fail "json exited $?"
grep -q '"pool": "mvff"' <<<"$json" || fail "json lacks the mvff row: $json"
csv=$("$workbench" pools --pools=mfs --ops=5000 --format=csv) || fail "csv exited $?"
[[ $(head -1 <<<"$csv") == pool,ops,* ]] || fail "csv header: $csv"

# MVFF behind the segregated cache: a row, and its Describe with --describe.
out=$("$workbench" pools --pools=mvff-sac --ops=20000 --live=200 --describe) ||
  fail "mvff-sac exited $?"
grep -q "^mvff-sac " <<<"$out" || fail "no row for mvff-sac in: $out"
grep -q "^SegregatedCache on MVFF pool" <<<"$out" || fail "no cache description in: $out"

# The same seed on a client arena gives the same figures, bar the timing.
a=$("$workbench" pools --pools=mvff --ops=20000 --client_arena=8388608 --format=csv | cut -d, -f1,2,4-)
b=$("$workbench" pools --pools=mvff --ops=20000 --client_arena=8388608 --format=csv | cut -d, -f1,2,4-)
[[ "$a" == "$b" ]] || fail "client-arena runs differ: $a / $b"

"$workbench" pools --help | grep -q -- "--commit_limit" || fail "pools --help lacks --commit_limit"
"$workbench" help | grep -q "pools" || fail "help lacks the pools command"

"$workbench" nosuch >/dev/null 2>&1
[[ $? == 2 ]] || fail "unknown command should exit 2"
err=$("$workbench" pools --format=xml 2>&1 >/dev/null)
[[ $? == 2 && "$err" == *"expected table, csv or json"* ]] || fail "bad --format: $err"
err=$("$workbench" pools --pools=slab 2>&1 >/dev/null)
[[ $? == 2 && "$err" == *"unknown pool class 'slab'"* ]] || fail "bad --pools: $err"

# A commit limit the workload exceeds: the row names the failure, exit 1.
out=$("$workbench" pools --pools=mvff --ops=100000 --live=5000 --client_arena=4194304 \
  --commit_limit=300000 2>&1)
status=$?
[[ $status == 1 ]] || fail "exhausted commit limit should exit 1, got $status"
[[ "$out" == *"commit limit"* ]] || fail "commit-limit failure not reported: $out"

# Traces: gen, dump, compare (each policy in a child), the plot, and errors.
tmp=${TEST_TMPDIR:-$(mktemp -d)}
"$workbench" gen --workload=larson --events=20000 --live=100 -o "$tmp/l.trace" >/dev/null ||
  fail "gen larson exited $?"
"$workbench" gen --workload=phases --events=20000 --seed=3 -o "$tmp/p.trace.zst" >/dev/null ||
  fail "gen phases exited $?"
"$workbench" dump "$tmp/l.trace" >"$tmp/l.txt" || fail "dump exited $?"
grep -q '^alloc ' "$tmp/l.txt" || fail "dump shows no alloc lines"
out=$("$workbench" compare "$tmp/p.trace.zst" --policy mvff --policy 'mfs-classes(classes=16,32,64;large=mvff(spare=0.5))' \
  --plot "$tmp/p.svg" --csv "$tmp/p.csv")
status=$?
[[ $status == 0 ]] || fail "compare exited $status: $out"
[[ $(grep -c ' ok$' <<<"$out") == 2 ]] || fail "compare rows not ok: $out"
grep -q '<polyline' "$tmp/p.svg" || fail "plot has no lines"
[[ $(wc -l <"$tmp/p.csv") == 3 ]] || fail "csv rows: $(cat "$tmp/p.csv")"
"$workbench" gen --workload=random --events=5000 --seed=9 -o "$tmp/a.trace" >/dev/null
"$workbench" gen --workload=random --events=5000 --seed=9 -o "$tmp/b.trace" >/dev/null
a=$("$workbench" dump "$tmp/a.trace" | md5sum)
b=$("$workbench" dump "$tmp/b.trace" | md5sum)
[[ "$a" == "$b" ]] || fail "gen is not deterministic by seed"

printf 'alloc 1 16\nfree 1\nfree 1\n' >"$tmp/bad.txt"
"$workbench" import text "$tmp/bad.txt" -o "$tmp/bad.trace" >/dev/null || fail "import of bad.txt"
err=$("$workbench" replay "$tmp/bad.trace" 2>&1 >/dev/null)
[[ $? == 1 && "$err" == *"event 2"*"double free"* ]] || fail "double free not reported: $err"
out=$("$workbench" replay "$tmp/bad.trace" --lenient 2>&1)
[[ $? == 0 && "$out" == *"skipped:"* ]] || fail "lenient replay: $out"
err=$("$workbench" compare "$tmp/l.trace" --policy 'mvff(colour=red)' 2>&1 >/dev/null)
[[ $? == 1 && "$err" == *"unknown argument 'colour'"* ]] || fail "bad policy: $err"
err=$("$workbench" replay "$tmp/missing.trace" 2>&1 >/dev/null)
[[ $? == 1 && "$err" == *"missing.trace"* ]] || fail "missing trace: $err"
"$workbench" gen --workload=nosuch -o "$tmp/x.trace" >/dev/null 2>&1
[[ $? == 2 && ! -e "$tmp/x.trace" ]] || fail "bad gen workload should exit 2 and leave no file"

# validate: a valid trace, one with semantic errors (all listed, exit 1),
# and a truncated one (the reader's error, exit 1).
out=$("$workbench" validate "$tmp/l.trace") || fail "validate of a good trace exited $?"
[[ "$out" == *"valid: 20"*" events"* ]] || fail "validate: $out"
out=$("$workbench" validate "$tmp/bad.trace")
[[ $? == 1 && "$out" == *"1 problem in 3 events"*"event 2"*"double free"* ]] ||
  fail "validate of bad.trace: $out"
head -c 200 "$tmp/l.trace" >"$tmp/cut.trace"
err=$("$workbench" validate "$tmp/cut.trace" 2>&1 >/dev/null)
[[ $? == 1 && "$err" == *"cut.trace"*"truncated"* ]] || fail "validate of a cut trace: $err"

# The system allocators, each preloaded into its own replay process. A
# sanitizer build refuses them, and says why.
out=$("$workbench" compare "$tmp/l.trace" --policy glibc --policy jemalloc --policy mimalloc \
  --policy tcmalloc --policy null 2>"$tmp/sys.err")
status=$?
if grep -q "sanitizer build" "$tmp/sys.err"; then
  echo "system allocators: skipped (sanitizer build)"
else
  [[ $status == 0 ]] || fail "compare of system allocators exited $status: $(cat "$tmp/sys.err")"
  for a in glibc jemalloc mimalloc tcmalloc null; do
    grep -q "^$a .* ok$" <<<"$out" || fail "no ok row for $a in: $out"
  done
fi
# Not a terminal: no progress bar on stderr.
if grep -q $'\r' "$tmp/sys.err"; then fail "a progress bar was drawn on a non-terminal"; fi

# record: a real program, its exit code passed on, and clear errors.
out=$("$workbench" record -o "$tmp/sh.trace" -- sh -c 'exec ls / >/dev/null' 2>&1)
[[ $? == 0 && "$out" == *"/usr/bin/ls"* ]] || fail "record ls: $out"
"$workbench" replay "$tmp/sh.trace" >/dev/null || fail "recorded ls trace does not replay"
"$workbench" record -o "$tmp/false.trace" -- false 2>/dev/null
[[ $? == 1 ]] || fail "record should pass on the command's exit code 1"
err=$("$workbench" record -o "$tmp/x.trace" 2>&1)
[[ $? == 2 && "$err" == *"expected a command"* ]] || fail "record without a command: $err"
err=$("$workbench" record -o "$tmp/x.trace" -- /no/such/cmd 2>&1)
[[ $? == 127 && "$err" == *"cannot run '/no/such/cmd'"* ]] || fail "record of a missing command: $err"
err=$("$workbench" record -o /no/such/dir/x.trace -- true 2>&1)
[[ $? == 1 && "$err" == *"/no/such/dir/x.trace: cannot write"* ]] || fail "record to a bad path: $err"
"$workbench" record --help | grep -q -- "--follow_forks" || fail "record --help lacks --follow_forks"

# GC traces: every generator's output validates; a planted violation is
# reported with its event index and exit 1.
for w in gcbench cons cache; do
  "$workbench" gen --workload=$w --gc_depth=6 --events=20000 --live=50 -o "$tmp/$w.trace" >/dev/null ||
    fail "gen $w exited $?"
  out=$("$workbench" validate "$tmp/$w.trace") || fail "validate $w exited $?: $out"
  [[ "$out" == *"valid GC trace"* ]] || fail "validate $w: $out"
done
# Collectors side by side: their counters too, one column each, with AMC's
# copying throughput and each collector's time by phase among them.
out=$("$workbench" compare "$tmp/gcbench.trace" --policy 'amc(chain=16k;segment=16k;large=4k)' \
  --policy 'ams(collect_after=16k;segment=16k)' 2>&1) || fail "compare amc ams exited $?: $out"
[[ "$out" =~ counter\ +amc\(.*\ +ams\( && "$out" == *"copy MB/s"* && "$out" == *"marked"* &&
  "$out" =~ weak\ ns\ +[1-9] && "$out" == *"reclaim ns"* && "$out" == *"mark ns"* ]] ||
  fail "compare of collectors lacks the side-by-side counters: $out"
[[ "$out" =~ pause\ faults\ +[0-9]+\ +[0-9]+ ]] || fail "compare lacks pause faults: $out"
# Tools get the same counters in each policy's row.
out=$("$workbench" compare "$tmp/gcbench.trace" --policy 'amc(chain=16k;segment=16k;large=4k)' \
  --policy 'ams(collect_after=16k;segment=16k)' --format=json 2>&1) || fail "json exited $?: $out"
[[ "$out" =~ \"policy\":\ \"amc.*\"counters\":\ \{\"collections\":\ [1-9].*\"copy\ MB/s\" &&
  "$out" =~ \"policy\":\ \"ams.*\"counters\":\ \{.*\"marked\":\ [1-9] ]] ||
  fail "compare --format=json lacks the counters: $out"
out=$("$workbench" compare "$tmp/gcbench.trace" --policy 'amc(chain=16k;segment=16k;large=4k)' \
  --format=csv 2>&1) || fail "csv exited $?: $out"
[[ "$(head -1 <<<"$out")" == *",status,counters.collections,"*"counters.copy MB/s"* ]] ||
  fail "compare --format=csv lacks the counter columns: $out"
printf 'alloc 1 16 slots=2\nroot-add 1\nalloc 2 16 slots=2\nalloc 3 8\nstore 1 0 2\n' >"$tmp/gcbad.txt"
"$workbench" import text "$tmp/gcbad.txt" -o "$tmp/gcbad.trace" >/dev/null || fail "import gcbad.txt"
err=$("$workbench" validate "$tmp/gcbad.trace" 2>&1)
[[ $? == 1 && "$err" == *"event 4: STORE of id 2, which is unreachable"* ]] ||
  fail "GC violation not reported: $err"

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "workbench CLI: all checks passed"
