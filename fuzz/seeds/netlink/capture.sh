#!/usr/bin/env bash
# Captures the kernel's rtnetlink answers to our requests (RtnlRequest) as seeds of the netlink
# fuzz target: in a network namespace made for it (a veth pair inside; nothing touches the host),
# VirtNetworkd.Fuzz netlink-capture creates a bridge, addresses and a route, dumps links, addresses
# and routes, and writes each answer here as a hex file. Needs root (ip netns).
#   fuzz/seeds/netlink/capture.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=$PWD/fuzz/seeds/netlink
build=$PWD/fuzz/.work/capture
dotnet build fuzz/Targets/Targets.csproj -c Release -o "$build" -nologo -v q > "$build.log" || { cat "$build.log" >&2; exit 1; }
ns=fz-capture-$RANDOM$RANDOM
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link set lo up
ip -n "$ns" link add fzv0 type veth peer name fzv1
ip netns exec "$ns" dotnet "$build/VirtNetworkd.Fuzz.dll" netlink-capture "$out"
