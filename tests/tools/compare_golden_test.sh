#!/usr/bin/env bash
# Golden test of `workbench compare`: on a client arena every pool policy is
# deterministic, so every field of the CSV but the timing (ns/event) must
# match tests/tools/testdata/compare_golden.csv exactly. After an intended
# change in the pools' behaviour, regenerate it with
#   UPDATE_GOLDEN=$PWD/tests/tools/testdata/compare_golden.csv \
#     bazel run //tests/tools:compare_golden_test
# and explain the change in the commit.
set -uo pipefail
workbench="$1"
golden="$2"
tmp=${TEST_TMPDIR:-$(mktemp -d)}

"$workbench" gen --workload=phases --events=30000 --live=400 --seed=11 --max_size=4096 \
  -o "$tmp/golden.trace" >/dev/null || { echo "FAIL: gen exited $?" >&2; exit 1; }
# Everything a user can set is in the specs, so the figures depend on
# nothing else; ns/event (column 3) is the only field that may differ. (The
# specs use ';' between arguments so that no CSV field holds a comma.)
"$workbench" compare "$tmp/golden.trace" --format=csv \
  --policy 'mvff(arena=client;client_size=64m)' \
  --policy 'mvff(arena=client;client_size=64m;first_fit=false;arena_spare=0)' \
  --policy 'mfs-classes(arena=client;client_size=64m)' \
  --policy 'node-slice-classes(arena=client;client_size=64m)' \
  --policy 'mvff(arena=client;client_size=64m;sac=32;64;256;1k;sac_count=8)' \
  --policy null |
  cut -d, -f1,2,4- >"$tmp/actual.csv" || { echo "FAIL: compare exited $?" >&2; exit 1; }

if [[ -n "${UPDATE_GOLDEN:-}" ]]; then
  cp "$tmp/actual.csv" "$UPDATE_GOLDEN"
  echo "updated $UPDATE_GOLDEN"
  exit 0
fi
if ! diff -u "$golden" "$tmp/actual.csv"; then
  echo "FAIL: compare differs from the golden file (diff above: - golden, + actual)" >&2
  exit 1
fi
echo "compare golden: $(($(wc -l <"$golden") - 1)) policies match in every field"
