#!/usr/bin/env bash
# Protocol benchmarks: build, run the self-check (--verify: round trips + allocation table,
# a few seconds), then BenchmarkDotNet over every benchmark with one joined summary.
# Extra arguments go to BenchmarkDotNet; a --filter of your own replaces the default '*', e.g.
#   bench/run-protocol-bench.sh --filter '*PacketBench*'           # some benchmarks only
#   bench/run-protocol-bench.sh --job short                         # quick, for development
#   bench/run-protocol-bench.sh --warmupCount 3 --iterationCount 10 # fixed, shorter job
#   bench/run-protocol-bench.sh                                     # default job (what README reports)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/Protocol.Benchmarks
dotnet run -c Release --no-build --project bench/Protocol.Benchmarks -- --verify
filter=(--filter '*')
for a in "$@"; do case "$a" in --filter|--filter=*|-f) filter=() ;; esac; done
dotnet run -c Release --no-build --project bench/Protocol.Benchmarks -- "${filter[@]}" --join "$@"
