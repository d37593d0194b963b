#!/usr/bin/env bash
# Server allocations per call: build, run the self-check (--verify: replies checked, bytes per
# call counted process-wide around 20000 calls of each procedure, exit 1 if any call allocates;
# a few seconds), then BenchmarkDotNet with MemoryDiagnoser over the same calls.
# Extra arguments go to BenchmarkDotNet, e.g.
#   bench/run-server-alloc-bench.sh --job short    # quick, for development
#   bench/run-server-alloc-bench.sh                # default job (what README reports)
# --verify-only skips BenchmarkDotNet.
set -euo pipefail
cd "$(dirname "$0")/.."
verify_only=0
if [[ "${1:-}" == "--verify-only" ]]; then verify_only=1; shift; fi
dotnet build -c Release bench/Server.Benchmarks
dotnet run -c Release --no-build --project bench/Server.Benchmarks -- --verify
if [[ $verify_only == 0 ]]; then
    dotnet run -c Release --no-build --project bench/Server.Benchmarks -- --filter '*' "$@"
fi
