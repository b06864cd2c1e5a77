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

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "workbench CLI: all checks passed"
