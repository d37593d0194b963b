#!/usr/bin/env bash
# Network start/destroy with the Linux backend against libvirt 9.0 (the reference daemon), each in
# its own network namespace, in the same run. See bench/README.md, "Network lifecycle with the
# Linux backend".
#
#   sudo bench/run-network-lifecycle-bench.sh [--daemon PATH] [--runs R] [--cycles N] [--count M]
#                                             [--dhcp-cycles D] [--leases L] [--dhcp-only]
#                                             [--firewall nftables|iptables] [--out DIR]
#
#   --daemon PATH   a virtnetworkd executable; default: build src/Server (Release), run with dotnet
#   --runs R        repetitions per side, alternating sides (default 3); medians are reported
#   --cycles N      net-start/net-destroy cycles of one network per repetition (default 20)
#   --count M       networks started one after another, then the daemon restarted (default 100)
#   --dhcp-cycles D net-start/net-destroy cycles of a NAT network WITH DHCP (dnsmasq) (default 20)
#   --leases L      DHCP clients (busybox udhcpc in a guest namespace) per repetition whose lease is
#                   timed from the DHCP ACK to virNetworkGetDHCPLeases showing it (default 5)
#   --dhcp-only     only the two DHCP phases (skip the no-DHCP cycles, the 100 networks, the restart)
#   --firewall B    our firewall_backend (default nftables, libvirt 10.8's default; 9.0 uses iptables)
#   --out DIR       keep each repetition's JSON there (default: a temp dir, printed)
#
# Ours runs in a namespace this script creates (VIRTNETWORKD_ROOT under a temp dir); the reference
# in its own (vnref, ../shared/reference/reference-daemon.sh), under the flock every user of the
# reference takes. bench/network-lifecycle.py drives each daemon through python3-libvirt in one
# process. Needs root, ip, nft, iptables, dotnet, /usr/bin/python3 with python3-libvirt, jq.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
refscript=${VND_REFERENCE_SCRIPT:-$repo/../shared/reference/reference-daemon.sh}
daemon="" runs=3 cycles=20 count=100 firewall=nftables out="" dhcp_cycles=20 leases=5 dhcp_only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --daemon) daemon=$2; shift ;;
    --runs) runs=$2; shift ;;
    --cycles) cycles=$2; shift ;;
    --count) count=$2; shift ;;
    --firewall) firewall=$2; shift ;;
    --dhcp-cycles) dhcp_cycles=$2; shift ;;
    --leases) leases=$2; shift ;;
    --dhcp-only) dhcp_only=--skip-nodhcp ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "run-network-lifecycle-bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "run-network-lifecycle-bench: FAILED: $*" >&2; exit 1; }
log() { echo "run-network-lifecycle-bench: $*" >&2; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for p in ip nft iptables dotnet jq dnsmasq busybox; do command -v $p >/dev/null || die "$p is not installed"; done
/usr/bin/python3 -c 'import libvirt' 2>/dev/null || die "python3-libvirt is not installed (apt-get install python3-libvirt)"
[ -x "$refscript" ] || die "no reference daemon script at $refscript (set VND_REFERENCE_SCRIPT)"

if [ -z "$daemon" ]; then
  log "building src/Server (Release)"
  dotnet build "$repo/src/Server" -c Release -v q -nologo >/dev/null || die "src/Server does not build"
  cmd="dotnet $repo/src/Server/bin/Release/net10.0/virtnetworkd.dll"
else
  cmd=$daemon
fi

tmp=$(mktemp -d /tmp/vnd-lifecycle-bench.XXXXXX)
out=${out:-$tmp/results}
mkdir -p "$out"
ns=vndlc$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
root=$tmp/root
refdir=/tmp/vn-reference
sock=$root/run/libvirt/virtnetworkd-sock
lockfd=""
cleanup() {
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  if [ -n "$lockfd" ]; then "$refscript" stop "$refdir" >/dev/null 2>&1 || true; fi
  rm -rf "$root"
}
trap cleanup EXIT INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$root/etc/libvirt"
echo "firewall_backend = \"$firewall\"" > "$root/etc/libvirt/network.conf"
ours_start="ip netns exec $ns env VIRTNETWORKD_ROOT=$root VIRTNETWORKD_BACKEND=linux $cmd >>$root/daemon.log 2>&1"
# every process in our namespace is the daemon this script started
ours_stop="for p in \$(ip netns pids $ns); do kill \$p; done; while [ -n \"\$(ip netns pids $ns)\" ]; do sleep 0.01; done; rm -f $root/run/libvirt/*-sock*"

exec {lockfd}>/tmp/vnd-reference.lock
log "waiting for the reference daemon's lock (/tmp/vnd-reference.lock)"
flock "$lockfd"
refuri=$("$refscript" start "$refdir")
ref_start="LIBVIRT_DRIVER_DIR=$refdir/drivers ip netns exec vnref libvirtd -f $refdir/libvirtd.conf -p $refdir/pid >>$refdir/stdout.log 2>&1"
ref_stop="p=\$(cat $refdir/pid); kill \$p; while kill -0 \$p 2>/dev/null; do sleep 0.01; done; rm -f $refdir/libvirt-sock $refdir/libvirt-sock-ro $refdir/libvirt-admin-sock"

setsid bash -c "$ours_start" </dev/null &
for _ in $(seq 300); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || die "our daemon did not start: $(cat "$root/daemon.log")"
oururi="network:///system?socket=$sock"

bench() { # side uri socket start stop netns
  /usr/bin/python3 "$repo/bench/network-lifecycle.py" --uri "$2" --socket "$3" --start-cmd "$4" --stop-cmd "$5" \
    --cycles "$cycles" --count "$count" --dhcp-cycles "$dhcp_cycles" --leases "$leases" --netns "$6" $dhcp_only --json
}
for r in $(seq "$runs"); do
  log "repetition $r/$runs: reference (libvirt 9.0)"
  bench reference "$refuri" "$refdir/libvirt-sock" "$ref_start" "$ref_stop" vnref > "$out/reference-$r.json" || die "the reference run failed"
  log "repetition $r/$runs: ours ($firewall)"
  bench ours "$oururi" "$sock" "$ours_start" "$ours_stop" "$ns" > "$out/ours-$r.json" || die "our run failed: $(tail -5 "$root/daemon.log")"
done

median() { local f=$1; shift; jq -s "map($f) | sort | .[length/2|floor]" "$@"; }
perrep() { local f=$1; shift; jq -r "$f" "$@" | tr '\n' ' '; }
report() { # label jq-path
  local o r
  jq -e "$2" "$out/ours-1.json" >/dev/null 2>&1 || return 0
  o=$(median "$2" "$out"/ours-*.json) r=$(median "$2" "$out"/reference-*.json)
  printf '%-46s ours %9.2f ms   libvirt 9.0 %9.2f ms   ours/ref %.3f\n' "$1" "$o" "$r" "$(awk -v o="$o" -v r="$r" 'BEGIN {print o / r}')"
  printf '%-46s   per repetition: ours %s/ libvirt 9.0 %s\n' "" "$(perrep "$2" "$out"/ours-*.json)" "$(perrep "$2" "$out"/reference-*.json)"
}
echo "## medians of $runs repetitions ($cycles cycles, $count networks, $dhcp_cycles DHCP cycles, $leases leases; ours: firewall_backend=$firewall)"
report "net-start (median of the cycles)" '.["net-start"].median_ms'
report "net-destroy (median of the cycles)" '.["net-destroy"].median_ms'
report "start of one of $count: first tenth (median)" '.["many-start"].first_tenth.median_ms'
report "start of one of $count: last tenth (median)" '.["many-start"].last_tenth.median_ms'
report "restart with $count running: socket ready" '.restart.socket_ready_ms'
report "restart with $count running: first answer" '.restart.first_answer_ms'
report "destroy of one of $count running (median)" '.["teardown-destroy"].median_ms'
report "net-start with DHCP (median of the cycles)" '.["dhcp-start"].median_ms'
report "net-destroy with DHCP (median of the cycles)" '.["dhcp-destroy"].median_ms'
report "lease in the API after the ACK (median)" '.lease.median_ms'
report "lease in the API after the ACK (max)" '.lease.max_ms'
if jq -e .lease "$out/ours-1.json" >/dev/null 2>&1; then
  echo "each lease, ACK to API (ms): ours $(jq -c '.lease.per_lease_ms' "$out"/ours-*.json | tr '\n' ' ')/ libvirt 9.0 $(jq -c '.lease.per_lease_ms' "$out"/reference-*.json | tr '\n' ' ')"
  echo "each lease, ACK to the client's script (ms): ours $(jq -c '.lease.client_script_after_ack_ms' "$out"/ours-*.json | tr '\n' ' ')"
fi
echo "results: $out"
