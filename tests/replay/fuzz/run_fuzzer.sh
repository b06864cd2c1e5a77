#!/usr/bin/env bash
# Runs the trace-reader fuzzer for a bounded time over a copy of the seed
# corpus. Usage: run_fuzzer.sh FUZZER CORPUS_FILE...
set -euo pipefail
fuzzer=$1
shift
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/fuzz.XXXXXX")
cp "$@" "$work/"
exec "$fuzzer" -max_total_time="${FUZZ_SECONDS:-20}" -runs=2000000 -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 "$work"
