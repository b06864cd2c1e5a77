#!/usr/bin/env bash
# `workbench stats` and `workbench import` through the real binary: the
# formats, --help, semantic errors (strict and --lenient) and bad input.
set -uo pipefail
workbench="$1"
tmp=${TEST_TMPDIR:-$(mktemp -d)}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

"$workbench" gen --workload=phases --events=20000 --seed=3 -o "$tmp/p.trace.zst" >/dev/null ||
  fail "gen exited $?"
out=$("$workbench" stats "$tmp/p.trace.zst") || fail "stats exited $?"
for row in "summary +events +20000" "summary +peak live bytes" "kind +alloc" "size +" "lifetime +live at end"; do
  grep -Eq "^$row" <<<"$out" || fail "no row '$row' in: $out"
done
csv=$("$workbench" stats "$tmp/p.trace.zst" --format=csv) || fail "csv exited $?"
[[ $(head -1 <<<"$csv") == "section,name,value" ]] || fail "csv header: $(head -1 <<<"$csv")"
json=$("$workbench" stats "$tmp/p.trace.zst" --format=json) || fail "json exited $?"
grep -q '"section": "summary", "name": "allocation calls", "value": ' <<<"$json" || fail "json: $json"
"$workbench" stats --help | grep -q -- "--lenient" || fail "stats --help lacks --lenient"
"$workbench" help | grep -q "^  stats " || fail "help lacks the stats command"

printf 'alloc 1 16\nfree 1\nfree 1\nalloc 2 8\n' >"$tmp/bad.txt"
"$workbench" import text "$tmp/bad.txt" -o "$tmp/bad.trace" >/dev/null || fail "import text"
err=$("$workbench" stats "$tmp/bad.trace" 2>&1 >/dev/null)
[[ $? == 1 && "$err" == *"bad.trace: event 2: free of id 1 is not live"*"double free"* ]] ||
  fail "double free not reported: $err"
out=$("$workbench" stats "$tmp/bad.trace" --lenient --format=csv 2>"$tmp/err")
[[ $? == 0 && "$out" == *"summary,skipped,1"* && "$(cat "$tmp/err")" == *"skipped: "* ]] ||
  fail "lenient stats: $out $(cat "$tmp/err")"
err=$("$workbench" stats "$tmp/missing.trace" 2>&1 >/dev/null)
[[ $? == 1 && "$err" == *"missing.trace"* ]] || fail "missing trace: $err"
"$workbench" stats >/dev/null 2>&1
[[ $? == 2 ]] || fail "stats without a trace should exit 2"
err=$("$workbench" stats "$tmp/p.trace.zst" --format=xml 2>&1 >/dev/null)
[[ $? == 2 ]] || fail "bad --format should exit 2: $err"

err=$("$workbench" import valgrind "$tmp/bad.txt" -o "$tmp/x.trace" 2>&1 >/dev/null)
[[ $? == 2 && "$err" == *"expected text, mtrace, heaptrack or elephant"* ]] || fail "unknown format: $err"
printf '= Start\n+ 0x10 0x20\n- 0x40\n= End\n' >"$tmp/m.txt"
err=$("$workbench" import mtrace "$tmp/m.txt" -o "$tmp/m.trace" 2>&1 >/dev/null)
[[ $? == 1 && "$err" == *"m.txt: line 3: free of 0x40, which is not live"* && ! -e "$tmp/m.trace" ]] ||
  fail "mtrace error: $err"
out=$("$workbench" import mtrace "$tmp/m.txt" -o "$tmp/m.trace" --import_lenient 2>&1)
[[ $? == 0 && "$out" == *"1 events from 4 lines, 1 bad lines skipped"* ]] || fail "lenient: $out"

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "workbench stats and import: all checks passed"
