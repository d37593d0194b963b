#!/usr/bin/env bash
# Server allocations per call (bench/README.md): build, run the self-check (--verify: replies
# checked, bytes counted process-wide around 20000 calls of each procedure, exit 1 if a call
# allocates; about 20 s), then BenchmarkDotNet with MemoryDiagnoser over the same calls.
#   bench/run-server-alloc-bench.sh                # default job (what README reports)
#   bench/run-server-alloc-bench.sh --job short    # quick, for development
#   bench/run-server-alloc-bench.sh --verify-only  # the self-check alone
#   bench/run-server-alloc-bench.sh --daemon ...   # the whole daemon (Program.Main) in process
# Other arguments go to BenchmarkDotNet.
set -euo pipefail
cd "$(dirname "$0")/.."
verify_only=0
server=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --verify-only) verify_only=1; shift ;;
        --daemon) server=(--daemon); shift ;;
        *) break ;;
    esac
done
dotnet build -c Release bench/Server.Benchmarks
dotnet run -c Release --no-build --project bench/Server.Benchmarks -- --verify "${server[@]}"
if [[ $verify_only == 0 ]]; then
    dotnet run -c Release --no-build --project bench/Server.Benchmarks -- --filter '*' "${server[@]}" "$@"
fi
