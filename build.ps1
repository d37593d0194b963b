#!/usr/bin/env pwsh
# Thin wrapper for people with PowerShell 7; the real commands are the dotnet ones below
# (these machines have no PowerShell: use them directly, or scripts/test.sh for the tests).
param([ValidateSet('build', 'test', 'bench', 'publish')][string]$Task = 'build')
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
switch ($Task) {
    'build'   { dotnet build VirtNetworkd.sln -c Release }
    'test'    { bash scripts/test.sh }
    'bench'   { dotnet run -c Release --project bench/Protocol.Benchmarks -- --filter '*' }
    'publish' { dotnet publish src/Server -c Release -o artifacts/virtnetworkd }
}
exit $LASTEXITCODE
