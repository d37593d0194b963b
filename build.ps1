#!/usr/bin/env pwsh
# build.ps1: one entry point around the commands README.md gives. PowerShell 7 comes with the
# repository as a local .NET tool (.config/dotnet-tools.json), so no system install is needed:
#
#   dotnet tool restore                                  # once (fetches PowerShell from NuGet)
#   dotnet pwsh build.ps1 [TASK] [-Configuration C] [ARGS...]
#
# TASK (default: build); ARGS are passed on to the command the task runs:
#   build    dotnet build VirtNetworkd.sln -c C ARGS
#   test     bash scripts/test.sh ARGS           the whole suite as CI runs it; ARGS go to dotnet test,
#                                                e.g. --filter 'FullyQualifiedName~Keepalive'
#   bench    bash bench/run-protocol-bench.sh ARGS   the BenchmarkDotNet protocol benchmarks, after
#                                                their --verify self-check; ARGS go to BenchmarkDotNet,
#                                                e.g. --filter '*PacketBench*' --job short
#   publish  dotnet publish src/Server -c C -r linux-x64 -o artifacts/virtnetworkd-aot ARGS
#                                                the NativeAOT daemon and its leases helper, as README.md builds them
#   fuzz     bash fuzz/run.sh ARGS               fuzz TARGET SECONDS, or fuzz --list
#   help     this text
#
# -Configuration (or -c) applies to build and publish (default Release); scripts/test.sh and
# the benchmarks always use Release. Commands run from the repository root; build.ps1 exits
# with the exit status of the command it ran.
# The other benchmarks in bench/ run on their own (bench/README.md): bench/run-server-alloc-bench.sh
# (server bytes per RPC call), bench/run-rpc-bench.sh (RPC throughput against libvirtd; root),
# bench/roundtrip-floor.py (the machine's round-trip floor).

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Fail([string]$message, [int]$code = 2) {
    [Console]::Error.WriteLine("build.ps1: $message")
    exit $code
}

$tasks = 'build', 'test', 'bench', 'publish', 'fuzz', 'help'

# No param() block: PowerShell's parameter binder would take "-p:X=1" or "-v:q" for its own
# parameters, and bind a fuzz target to -Configuration by position. Arguments are read here:
# -Configuration/-c VALUE anywhere, the task first, everything else passed on in order.
$configuration = $null
$rest = [System.Collections.Generic.List[string]]::new()
for ($i = 0; $i -lt $args.Count; $i++) {
    $a = [string]$args[$i]
    if ($a -in '-Configuration', '-c', '--configuration') {
        if ($i + 1 -ge $args.Count) { Fail "$a needs a value (Release, Debug)" }
        $configuration = [string]$args[++$i]
    } else {
        $rest.Add($a)
    }
}
$task = 'build'
if ($rest.Count -gt 0 -and -not $rest[0].StartsWith('-')) {
    $task = $rest[0].ToLowerInvariant()
    $rest.RemoveAt(0)
    if ($task -notin $tasks) { Fail "unknown task '$task': use one of $($tasks -join ', ') (build.ps1 help)" }
}
if ($rest.Count -gt 0 -and $rest[0] -eq '--') { $rest.RemoveAt(0) }   # build.ps1 test -- --filter X
if ($null -ne $configuration -and $task -notin 'build', 'publish') {
    Fail "-Configuration applies to build and publish only ($task always uses Release)"
}
if ($null -eq $configuration) { $configuration = 'Release' }
[string[]]$extra = $rest.ToArray()

if ($task -eq 'help') {
    Get-Content -LiteralPath $PSCommandPath | Select-Object -Skip 1 |
        ForEach-Object -Begin { $inHeader = $true } -Process {
            if ($inHeader -and $_.StartsWith('#')) { $_ -replace '^# ?', '' } else { $inHeader = $false }
        }
    exit 0
}

Push-Location -LiteralPath $PSScriptRoot
try {
    switch ($task) {
        'build'   { & dotnet build VirtNetworkd.sln -c $configuration @extra }
        'test'    { & bash scripts/test.sh @extra }
        'bench'   { & bash bench/run-protocol-bench.sh @extra }
        'publish' { & dotnet publish src/Server -c $configuration -r linux-x64 -o artifacts/virtnetworkd-aot @extra }
        'fuzz'    {
            if (-not (Test-Path -LiteralPath fuzz/run.sh -PathType Leaf)) {
                Fail ("fuzz/run.sh does not exist yet: this checkout has no fuzz harness. Once fuzz/ is in, " +
                      "'build.ps1 fuzz TARGET SECONDS' runs a target and 'build.ps1 fuzz --list' lists them.") 1
            }
            & bash fuzz/run.sh @extra
        }
    }
    $status = $LASTEXITCODE
} finally {
    Pop-Location
}
exit $status
