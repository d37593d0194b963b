#!/usr/bin/env bash
# The firewall watch's cost (one pass a second): CPU time our daemon (Linux backend, nftables)
# spends while idle with N NAT networks running. See bench/README.md, "Network lifecycle with the
# Linux backend".
#
#   sudo bench/firewall-watch-cost.sh [--daemon PATH] [--count N] [--seconds S] [--bump]
#
#   --daemon PATH   a virtnetworkd executable; default: build src/Server (Release), run with dotnet
#   --count N       networks started before measuring (default 100; the bench's network XML)
#   --seconds S     how long to measure (default 10)
#   --bump          meanwhile add and delete a table in the namespace every 0.25 s, so that the
#                   ruleset generation changes before every pass (no pass can skip its look)
#
# The daemon runs in a network namespace this script creates (VIRTNETWORKD_ROOT under a temp
# dir), removed at the end. Needs root, ip, nft, dotnet, /usr/bin/python3 with python3-libvirt.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
daemon="" count=100 seconds=10 bump=0
while [ $# -gt 0 ]; do
  case "$1" in
    --daemon) daemon=$2; shift ;;
    --count) count=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --bump) bump=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "firewall-watch-cost: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "firewall-watch-cost: FAILED: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for p in ip nft dotnet; do command -v $p >/dev/null || die "$p is not installed"; done
/usr/bin/python3 -c 'import libvirt' 2>/dev/null || die "python3-libvirt is not installed (apt-get install python3-libvirt)"
if [ -z "$daemon" ]; then
  dotnet build "$repo/src/Server" -c Release -v q -nologo >/dev/null || die "src/Server does not build"
  daemon="dotnet $repo/src/Server/bin/Release/net10.0/virtnetworkd.dll"
fi

tmp=$(mktemp -d /tmp/vnd-watch-cost.XXXXXX)
root=$tmp/root
ns=vndwc$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
cleanup() {
  touch "$tmp/stop"
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$root/etc/libvirt"
echo 'firewall_backend = "nftables"' > "$root/etc/libvirt/network.conf"
sock=$root/run/libvirt/virtnetworkd-sock
setsid bash -c "ip netns exec $ns env VIRTNETWORKD_ROOT=$root VIRTNETWORKD_BACKEND=linux $daemon >>$root/daemon.log 2>&1" </dev/null &
for _ in $(seq 300); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || die "the daemon did not start: $(cat "$root/daemon.log")"
pid=$(ip netns pids "$ns" | head -1)

/usr/bin/python3 - "$repo/bench/network-lifecycle.py" "$sock" "$count" <<'PY' || die "starting the networks failed"
import importlib.util, sys, libvirt
spec = importlib.util.spec_from_file_location("lifecycle", sys.argv[1])
lifecycle = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lifecycle)
conn = libvirt.open(f"network:///system?socket={sys.argv[2]}")
for k in range(int(sys.argv[3])):
    conn.networkDefineXML(lifecycle.xml("vbw", k)).create()
PY
if [ "$bump" = 1 ]; then
  ( while [ ! -e "$tmp/stop" ]; do
      ip netns exec "$ns" nft add table inet vnbump; sleep 0.25
      ip netns exec "$ns" nft delete table inet vnbump; sleep 0.25
    done ) 2>/dev/null &
fi
sleep 3 # the starts' last passes are over
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks); sleep "$seconds"; t1=$(ticks)
ms=$(( (t1 - t0) * 1000 / $(getconf CLK_TCK) ))
echo "daemon CPU with $count networks running$([ "$bump" = 1 ] && echo ', generation bumped'): $ms ms over $seconds s ($(( ms / seconds )) ms per second)"
