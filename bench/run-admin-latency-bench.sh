#!/usr/bin/env bash
# virt-admin latency while the main socket is flooded: the admin program has its own server and
# worker pool, so a main-socket load must not hold it up. See bench/README.md, "Admin latency
# under load".
#
#   bench/run-admin-latency-bench.sh [--daemon PATH] [--connections C] [--depth D] [--call CALL]
#                                    [--samples N] [--virt-admin-runs R] [--seconds S]
#
#   --daemon PATH        a virtnetworkd executable (e.g. artifacts/virtnetworkd-aot/virtnetworkd);
#                        default: build src/Server (Release) and run it with dotnet
#   --connections C      load-generator connections on the main socket (default 8)
#   --depth D            calls each keeps in flight, pipelined (default 8)
#   --call CALL          the load's call (default get_lib_version; see vnd-loadgen --help)
#   --samples N          admin calls per procedure on one connection (default 200; a quarter
#                        as many whole sessions)
#   --virt-admin-runs R  real `virt-admin server-threadpool-info` commands timed (default 30)
#   --seconds S          the load's measured window (default 30; the loaded measurement must
#                        end inside it, else the script fails)
#
# Measures twice, idle and under the load: bench/admin-latency.py on the admin socket (one call on
# an open connection; and a whole session as virt-admin makes it: connect, open, call, close), and
# the wall time of whole virt-admin processes. Needs dotnet, python3, jq and virt-admin.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
daemon="" connections=8 depth=8 call=get_lib_version samples=200 runs=30 seconds=30
while [ $# -gt 0 ]; do
  case "$1" in
    --daemon) daemon=$2; shift ;;
    --connections) connections=$2; shift ;;
    --depth) depth=$2; shift ;;
    --call) call=$2; shift ;;
    --samples) samples=$2; shift ;;
    --virt-admin-runs) runs=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "run-admin-latency-bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
die() { echo "run-admin-latency-bench: FAILED: $*" >&2; exit 1; }
log() { echo "run-admin-latency-bench: $*" >&2; }
for p in dotnet python3 jq virt-admin; do command -v $p >/dev/null || die "$p is not installed"; done

log "building bench/LoadGen${daemon:+ }${daemon:-and src/Server} (Release)"
dotnet build "$repo/bench/LoadGen" -c Release -v q -nologo >/dev/null || die "bench/LoadGen does not build"
loadgen=$repo/bench/LoadGen/bin/Release/net10.0/vnd-loadgen
if [ -z "$daemon" ]; then
  dotnet build "$repo/src/Server" -c Release -v q -nologo >/dev/null || die "src/Server does not build"
  cmd=(dotnet "$repo/src/Server/bin/Release/net10.0/virtnetworkd.dll")
else
  cmd=("$daemon")
fi

root=$(mktemp -d /tmp/vnd-admin-bench.XXXXXX)
rw=$root/run/libvirt/virtnetworkd-sock admin=$root/run/libvirt/virtnetworkd-admin-sock
uri="virtnetworkd:///system?socket=$admin"
pid="" load=""
cleanup() {
  [ -n "$load" ] && kill "$load" 2>/dev/null || true
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT INT TERM

VIRTNETWORKD_ROOT=$root VIRTNETWORKD_BACKEND=inprocess "${cmd[@]}" >"$root/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 200); do [ -S "$admin" ] && [ -S "$rw" ] && break; kill -0 "$pid" 2>/dev/null || die "the daemon exited: $(cat "$root/daemon.log")"; sleep 0.1; done
[ -S "$admin" ] || die "no admin socket after 20 s"

# the wall time of R runs of a command: p50, p90, max
time_runs() {
  local what=$1 t0 t1 all=()
  shift
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    "$@" >/dev/null || die "$* failed"
    t1=$(date +%s%N)
    all+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${all[@]}" | sort -n | awk -v what="$what" '{a[NR]=$1} END {printf "%s, %d runs: p50 %.1f ms, p90 %.1f ms, max %.1f ms\n", what, NR, a[int(NR*0.5)+1]/1000, a[int(NR*0.9)+1]/1000, a[NR]/1000}'
}

# virt-admin's own per-command time without its process start: one process running K commands
# (its "cmd; cmd; ..." form) against one running one, medians of 5 each, the difference over K-1
per_command() {
  local k=500 one=() many=() t0 cmds
  cmds=$(for _ in $(seq $k); do printf 'server-threadpool-info virtnetworkd; '; done)
  for _ in 1 2 3 4 5; do
    t0=$(date +%s%N); virt-admin -c "$uri" server-threadpool-info virtnetworkd >/dev/null || die "virt-admin failed"; one+=($(( $(date +%s%N) - t0 )))
    t0=$(date +%s%N); virt-admin -c "$uri" "$cmds" >/dev/null || die "virt-admin failed"; many+=($(( $(date +%s%N) - t0 )))
  done
  local m1 mk
  m1=$(printf '%s\n' "${one[@]}" | sort -n | sed -n 3p)
  mk=$(printf '%s\n' "${many[@]}" | sort -n | sed -n 3p)
  awk -v a="$m1" -v b="$mk" -v k=$k 'BEGIN {printf "virt-admin server-threadpool-info, per command inside one virt-admin process (%d commands): %.2f ms\n", k, (b - a) / (k - 1) / 1e6}'
}

measure() {
  python3 "$repo/bench/admin-latency.py" --socket "$admin" --samples "$samples"
  per_command
  time_runs "virt-admin server-threadpool-info virtnetworkd (whole process)" virt-admin -c "$uri" server-threadpool-info virtnetworkd
  # the same process start without the daemon: what the machine's CPUs cost any command
  time_runs "virt-admin --version (whole process, no daemon involved)" virt-admin --version
}

echo "## idle"
measure
echo
echo "## under load: $connections connections x $depth pipelined $call calls on the main socket"
"$loadgen" --socket "$rw" --connections "$connections" --depth "$depth" --call "$call" \
  --seconds "$seconds" --warmup 2 --server-pid "$pid" --json >"$root/load.json" &
load=$!
sleep 3 # the load's connections are open and past its warm-up
start=$(date +%s)
measure
took=$(( $(date +%s) - start ))
wait "$load" || die "the load generator failed"
load=""
[ "$took" -lt $(( seconds - 1 )) ] || die "the measurement took ${took} s, longer than the load's ${seconds} s window: raise --seconds"
jq -r '"load: \(.calls_per_s | round) calls/s, p50 \(.p50_us) µs, p99 \(.p99_us) µs per main-socket call (window \(.seconds) s)"' "$root/load.json"
echo "daemon pool after: $(virt-admin -c "$uri" server-threadpool-info admin | tr -s ' ' | tr '\n' ' ')"
