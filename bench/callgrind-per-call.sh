#!/usr/bin/env bash
# Instructions per call in the daemon, counted by callgrind (deterministic where throughput on a
# shared VM is not): the AOT daemon (its .dbg moved aside: valgrind 3.19 cannot read it) runs
# under valgrind with 100 defined networks; for each call, 2 s of load at 8 connections x depth 8,
# counters zeroed, 4 s of load, counters dumped; instructions / calls served.
#
#   bench/callgrind-per-call.sh [DAEMON]    (default artifacts/virtnetworkd-aot/virtnetworkd)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=${1:-$repo/artifacts/virtnetworkd-aot/virtnetworkd}
command -v valgrind >/dev/null || { echo "install valgrind" >&2; exit 1; }
work=$(mktemp -d /tmp/vnd-callgrind.XXXX); root=$work/root; sock=$root/run/libvirt/virtnetworkd-sock
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cp "$src" "$work/virtnetworkd"
loadgen=$repo/bench/LoadGen/bin/Release/net10.0/vnd-loadgen
[ -x "$loadgen" ] || dotnet build "$repo/bench/LoadGen/LoadGen.csproj" -c Release -nologo -v quiet >/dev/null
mkdir -p "$root"
VIRTNETWORKD_ROOT=$root VIRTNETWORKD_BACKEND=inprocess valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" \
  "$work/virtnetworkd" >"$work/daemon.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 600); do [ -S "$sock" ] && break; sleep 0.1; done
cmds=""
for i in $(seq -w 0 99); do
  printf "<network><name>benchnet0%s</name><bridge name='vb%s'/><ip address='10.%d.0.1' netmask='255.255.255.0'/></network>" "$i" "$i" $((10#$i + 1)) >"$work/n$i.xml"
  cmds+="net-define $work/n$i.xml;"
done
virsh -q -c "network:///system?socket=$sock" "$cmds" >/dev/null
for call in get_xml_desc:benchnet050 is_active:benchnet050 get_lib_version; do
  "$loadgen" --json --socket "$sock" --call "$call" --connections 8 --depth 8 --seconds 2 --warmup 0 >/dev/null
  callgrind_control -z "$pid" >/dev/null
  "$loadgen" --json --socket "$sock" --call "$call" --connections 8 --depth 8 --seconds 4 --warmup 0 >"$work/run.json"
  callgrind_control -d "$pid" >/dev/null; sleep 0.5
  f=$(ls -t "$work"/cg."$pid".* | head -1)
  ir=$(grep -m1 "^summary:\|^totals:" "$f" | awk '{print $2}')
  calls=$(jq '.calls_per_s*4' "$work/run.json")
  python3 -c "print('%-26s %6.0f instructions/call (%d calls)' % ('$call', $ir/$calls, $calls))"
done
