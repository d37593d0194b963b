#!/usr/bin/env bash
# RPC throughput: our virtnetworkd (NativeAOT) against the real libvirt daemon, in the same run.
# See bench/README.md, "RPC throughput: virtnetworkd vs libvirtd".
#
#   bench/run-rpc-bench.sh [--reference-only] [--seconds S] [--warmup S] [--cases "1x1 8x8 64x4"]
#                          [--calls "get_lib_version ..." | --all-calls]
#                          [--runs N] [--threads T] [--no-publish | --daemon PATH] [--out DIR]
#
#   --reference-only  skip our daemon: benchmark the reference daemon alone (a partial run)
#   --calls LIST      calls to measure (default get_lib_version): get_lib_version, lookup_by_name,
#                     get_xml_desc, list_all_networks, is_active, num_of_networks; for all but the
#                     first, 100 inactive networks benchnet000..benchnet099 are defined on both
#                     daemons for the matrix and undefined after it (lookups target benchnet050)
#   --all-calls       all of them
#   --seconds S       measured window per case (default 10)      --warmup S   warm-up per case (default 2)
#   --cases LIST      CONNECTIONSxDEPTH cases (default "1x1p 1x1 8x8 64x4"); a trailing p pins the
#                     daemon (all its threads) and the load generator to CPU 0 for that case: on
#                     a VM a wake-up across vCPUs costs tens of µs (IPI, halt exit), which swamps
#                     a one-call-at-a-time round trip; pinning measures the daemons themselves
#   --runs N          start-up runs per daemon, the median is reported (default 5)
#   --threads T       load-generator event-loop threads (default 1)
#   --no-publish      reuse artifacts/virtnetworkd-aot instead of publishing it again
#   --daemon PATH     benchmark this virtnetworkd executable instead (no publish), e.g. a JIT build
#   --out DIR         where the raw JSON results and results.md go (default /tmp/vnd-bench-<time>)
#
# The report starts with the machine's round-trip floor (bench/roundtrip-floor.py): what two
# processes passing one byte back and forth achieve, across CPUs and on one CPU, with the echo
# waiting in recv or (like a daemon's event loop) in epoll, and the echo's CPU per round trip.
#
# Needs root (the reference daemon runs in a network namespace), dotnet, jq, virsh and flock.
# Others use the reference daemon too: from its start to its stop (and the undefines) the script
# holds an exclusive flock on /tmp/vnd-reference.lock, waiting up to 15 minutes for it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ref_script=/work/shared/reference/reference-daemon.sh
ref_dir=/tmp/vnd-bench-ref
ref_ns=vnref   # the namespace reference-daemon.sh runs libvirtd in
ref_lock=/tmp/vnd-reference.lock
bench_nets=100 target_net=benchnet050
aot_dir=$repo/artifacts/virtnetworkd-aot

daemon_bin=$aot_dir/virtnetworkd ours_label="virtnetworkd (ours, AOT)"
reference_only=0 seconds=10 warmup=2 cases="1x1p 1x1 8x8 64x4" runs=5 threads=1 publish=1 out=""
all_calls="get_lib_version lookup_by_name get_xml_desc list_all_networks is_active num_of_networks"
calls=get_lib_version
while [ $# -gt 0 ]; do
  case "$1" in
    --reference-only) reference_only=1 ;;
    --seconds) seconds=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --cases) cases=$2; shift ;;
    --calls) calls=$2; shift ;;
    --all-calls) calls=$all_calls ;;
    --runs) runs=$2; shift ;;
    --threads) threads=$2; shift ;;
    --no-publish) publish=0 ;;
    --out) out=$2; shift ;;
    --daemon) daemon_bin=$2; publish=0; ours_label="virtnetworkd (ours, $2)"; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "run-rpc-bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-/tmp/vnd-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"

die() { echo "run-rpc-bench: FAILED: $*" >&2; exit 1; }
log() { echo "run-rpc-bench: $*" >&2; }
command -v dotnet >/dev/null || die "dotnet is not on PATH"
command -v jq >/dev/null || die "jq is not installed (apt-get install jq)"
command -v virsh >/dev/null || die "virsh is not installed (apt-get install libvirt-clients)"
command -v flock >/dev/null || die "flock is not installed (util-linux)"
need_nets=0
for call in $calls; do
  case "$call" in
    get_lib_version) ;;
    lookup_by_name|get_xml_desc|list_all_networks|is_active|num_of_networks) need_nets=1 ;;
    *) die "unknown call $call in --calls (known: $all_calls)" ;;
  esac
done
[ -f "$ref_script" ] || die "no reference daemon script at $ref_script"

# ------------------------------------------------------------------ clean-up, also on error
ours_pid="" ours_root="" ref_started=0 nets_on=""
cleanup() {
  local rc=$?
  local uri
  set +eu
  for uri in $nets_on; do undefine_nets "$uri" || true; done
  if [ -n "$ours_pid" ] && kill -0 "$ours_pid" 2>/dev/null; then
    kill -TERM "$ours_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$ours_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ours_pid" 2>/dev/null || true
  fi
  if [ "$ref_started" = 1 ]; then bash "$ref_script" stop "$ref_dir" >/dev/null 2>&1 || true; fi
  if [ -n "$ours_root" ] && [ -d "$ours_root" ]; then rm -rf "$ours_root"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ build
log "building the load generator (Release)"
dotnet build "$repo/bench/LoadGen/LoadGen.csproj" -c Release -nologo -v quiet >"$out/build-loadgen.log" 2>&1 \
  || { tail -30 "$out/build-loadgen.log" >&2; die "load generator build failed (log: $out/build-loadgen.log)"; }
loadgen=$repo/bench/LoadGen/bin/Release/net10.0/vnd-loadgen
[ -x "$loadgen" ] || die "no $loadgen after the build"

if [ "$reference_only" = 0 ]; then
  if [ "$publish" = 1 ]; then
    log "publishing our daemon with NativeAOT into $aot_dir (takes a few minutes)"
    (cd "$repo" && dotnet publish src/Server -c Release -r linux-x64 -o artifacts/virtnetworkd-aot -nologo -v quiet) \
      >"$out/publish-ours.log" 2>&1 || { tail -30 "$out/publish-ours.log" >&2; die "NativeAOT publish of src/Server failed (log: $out/publish-ours.log)"; }
  fi
  [ -x "$daemon_bin" ] || die "no executable $daemon_bin (publish it, or drop --no-publish)"
fi

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "?"; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
# a short load run as a smoke test (a few tries: the socket file can precede listen())
answers() {
  local i
  for i in 1 2 3 4 5; do
    "$loadgen" --socket "$1" --seconds 0.1 --warmup 0 >/dev/null 2>"$out/smoke.err" && return 0
    sleep 0.2
  done
  cat "$out/smoke.err" >&2
  return 1
}

# 100 small inactive networks, alternately NAT and routed, each with its own bridge and /24
bench_names() { local i; for ((i = 0; i < bench_nets; i++)); do printf 'benchnet%03d\n' "$i"; done; }
write_net_xml() {
  local i mode
  mkdir -p "$out/nets"
  for ((i = 0; i < bench_nets; i++)); do
    mode=nat; [ $((i % 2)) = 1 ] && mode=route
    printf '<network>\n  <name>benchnet%03d</name>\n  <forward mode="%s"/>\n  <bridge name="vndbench%03d" stp="on" delay="0"/>\n  <ip address="10.213.%d.1" netmask="255.255.255.0"/>\n</network>\n' \
      "$i" "$mode" "$i" "$i" >"$out/nets/benchnet$(printf %03d "$i").xml"
  done
}
# virsh takes several commands separated by ';' in one connection; it carries on after a failed
# one, so the result is checked by listing.
count_nets() {
  local names
  names=$(virsh -q -c "$1" net-list --all --name) || return 1
  grep -c '^benchnet[0-9][0-9][0-9]$' <<<"$names" || true
}
define_nets() {
  local uri=$1 log=$out/define-$2.log cmds="" n
  nets_on="$nets_on $uri"
  n=$(count_nets "$uri") || die "virsh cannot list the networks on $uri"
  [ "$n" = 0 ] || undefine_nets "$uri" || die "cannot remove old benchnet networks on $uri"
  for n in $(bench_names); do cmds+="net-define $out/nets/$n.xml;"; done
  virsh -q -c "$uri" "$cmds" >"$log" 2>&1 || true
  n=$(count_nets "$uri") || die "virsh cannot list the networks on $uri"
  [ "$n" = "$bench_nets" ] || { tail -5 "$log" >&2; die "$n of $bench_nets networks defined on $uri (log: $log)"; }
}
undefine_nets() {
  local uri=$1 cmds="" n
  for n in $(virsh -q -c "$uri" net-list --all --name 2>/dev/null | grep '^benchnet[0-9][0-9][0-9]$' || true); do cmds+="net-undefine $n;"; done
  [ -z "$cmds" ] || virsh -q -c "$uri" "$cmds" >/dev/null 2>&1 || true
  n=$(count_nets "$uri" 2>/dev/null) || { log "cannot list the networks on $uri to check the undefines"; return 1; }
  [ "$n" = 0 ] || { log "$n benchnet networks are still defined on $uri"; return 1; }
  nets_on=${nets_on/" $uri"/}
}
call_arg() {
  case "$1" in
    lookup_by_name|get_xml_desc|is_active) echo "$1:$target_net" ;;
    *) echo "$1" ;;
  esac
}

load_before=$(load_avg)
log "measuring the machine's round-trip floor (bench/roundtrip-floor.py)"
/usr/bin/python3 "$repo/bench/roundtrip-floor.py" --json >"$out/roundtrip-floor.json" \
  || die "bench/roundtrip-floor.py failed"

# ------------------------------------------------------------------ reference daemon
# The lock is held by fd 9 until the script exits (after the clean-up); the daemons started
# below get fd 9 closed so that none of them keeps the lock.
exec 9>>"$ref_lock"
log "waiting for the lock on $ref_lock (up to 15 minutes)"
flock -w 900 9 || die "the reference daemon lock $ref_lock was not free within 15 minutes"
log "starting the reference daemon in $ref_dir"
ref_started=1
bash "$ref_script" start "$ref_dir" 9>&- >"$out/ref-uri.txt" || die "the reference daemon did not start (see $ref_dir/libvirtd.log)"
ref_sock=$ref_dir/libvirt-sock ref_uri=$(cat "$out/ref-uri.txt")
ref_pid=$(cat "$ref_dir/pid")

# Start-up time: reference-daemon.sh has set up the config, the driver folder and the network
# namespace; stop the libvirtd it started and exec the same command line ourselves, so that the
# time is the daemon's own (exec to socket) and not the script's set-up or its 0.1 s polling.
log "reference daemon start-up: $runs runs"
kill -TERM "$ref_pid"
for _ in $(seq 100); do kill -0 "$ref_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ref_pid" 2>/dev/null && die "the reference daemon (pid $ref_pid) did not stop on SIGTERM"
LIBVIRT_DRIVER_DIR=$ref_dir/drivers "$loadgen" startup --json --runs "$runs" --socket "$ref_sock" -- \
  ip netns exec "$ref_ns" libvirtd -f "$ref_dir/libvirtd.conf" -p "$ref_dir/pid" 9>&- >"$out/startup-reference.json" \
  || die "start-up runs of the reference daemon failed"
bash "$ref_script" start "$ref_dir" 9>&- >/dev/null || die "the reference daemon did not start again (see $ref_dir/libvirtd.log)"
ref_pid=$(cat "$ref_dir/pid")
answers "$ref_sock" || die "the reference daemon does not answer on $ref_sock"
sleep 1
ref_rss_start=$(rss_kb "$ref_pid")

# ------------------------------------------------------------------ our daemon
if [ "$reference_only" = 0 ]; then
  ours_root=$(mktemp -d /tmp/vnd-bench-ours.XXXXXX)
  ours_sock=$ours_root/run/libvirt/virtnetworkd-sock ours_uri="network:///system?socket=$ours_root/run/libvirt/virtnetworkd-sock"
  log "our daemon start-up: $runs runs (VIRTNETWORKD_ROOT=$ours_root)"
  VIRTNETWORKD_ROOT=$ours_root VIRTNETWORKD_BACKEND=inprocess "$loadgen" startup --json --runs "$runs" --socket "$ours_sock" -- \
    "$daemon_bin" 9>&- >"$out/startup-ours.json" \
    || die "our daemon did not start or did not answer on $ours_sock (see the message above)"

  log "starting our daemon for the benchmark"
  rm -f "$ours_sock"   # a socket file left by the start-up runs would look ready at once
  VIRTNETWORKD_ROOT=$ours_root VIRTNETWORKD_BACKEND=inprocess "$daemon_bin" >"$out/ours.log" 2>&1 </dev/null 9>&- &
  ours_pid=$!
  for _ in $(seq 200); do
    [ -S "$ours_sock" ] && break
    kill -0 "$ours_pid" 2>/dev/null || { tail -20 "$out/ours.log" >&2; ours_pid=""; die "our daemon exited before creating $ours_sock (log: $out/ours.log)"; }
    sleep 0.05
  done
  [ -S "$ours_sock" ] || die "our daemon did not create $ours_sock within 10 s (log: $out/ours.log)"
  answers "$ours_sock" || die "our daemon does not answer on $ours_sock (log: $out/ours.log)"
  sleep 1
  ours_rss_start=$(rss_kb "$ours_pid")
fi

# ------------------------------------------------------------------ the matrix
daemons="reference"
if [ "$reference_only" = 0 ]; then daemons="reference ours"; fi
if [ "$need_nets" = 1 ]; then
  write_net_xml
  for daemon in $daemons; do
    if [ "$daemon" = reference ]; then uri=$ref_uri; else uri=$ours_uri; fi
    log "defining $bench_nets inactive networks on $daemon ($uri)"
    define_nets "$uri" "$daemon"
  done
fi
for call in $calls; do
  for case in $cases; do
    pin=${case//[^p]/}; cd_=${case%p}; c=${cd_%x*} d=${cd_#*x}
    for daemon in $daemons; do
      if [ "$daemon" = reference ]; then sock=$ref_sock pid=$ref_pid; else sock=$ours_sock pid=$ours_pid; fi
      log "$call, case c$c d$d${pin:+ (one CPU)}: $daemon (${warmup} s warm-up + ${seconds} s)"
      runner=()
      if [ -n "$pin" ]; then taskset -a -p -c 0 "$pid" >/dev/null; runner=(taskset -c 0); fi
      "${runner[@]}" "$loadgen" --json --socket "$sock" --call "$(call_arg "$call")" --connections "$c" --depth "$d" \
        --seconds "$seconds" --warmup "$warmup" --threads "$threads" --server-pid "$pid" >"$out/$call-c$c-d$d$pin-$daemon.json" \
        || die "load generator failed on $daemon, $call, case c$c d$d$pin"
      if [ -n "$pin" ]; then taskset -a -p -c "0-$(($(nproc) - 1))" "$pid" >/dev/null; fi
    done
  done
done

sleep 1
ref_rss_end=$(rss_kb "$ref_pid")
if [ "$reference_only" = 0 ]; then ours_rss_end=$(rss_kb "$ours_pid"); fi
load_after=$(load_avg)
for uri in $nets_on; do
  log "undefining the benchnet networks on $uri"
  undefine_nets "$uri" || die "could not undefine the benchnet networks on $uri"
done

# ------------------------------------------------------------------ report
j() { jq -r "$1" "$2"; }
{
  if [ "$reference_only" = 1 ]; then echo "**Partial run: reference daemon only (--reference-only).**"; echo; fi
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); kernel $(uname -r);"
  echo "libvirtd $(libvirtd --version | awk '{print $NF}'); load average before $load_before, after $load_after;"
  first=${cases%% *}; first_pin=${first//[^p]/}; first=${first%p}
  echo "each case: ${warmup} s warm-up, ${seconds} s measured; load-generator threads: $threads."
  echo "round-trip floor (bench/roundtrip-floor.py: one byte back and forth between two processes):" \
    "$(jq -r 'map("\(if .cpus[0] == .cpus[1] then "same CPU" else "two CPUs" end), echo waits in \(.echo_waits_in): \(.round_trip_us * 10 | round / 10) µs (\(.round_trips_per_s | round)/s), echo CPU \(.echo_cpu_us * 10 | round / 10) µs") | join("; ")' "$out/roundtrip-floor.json")."
  [ "$need_nets" = 0 ] || echo "$bench_nets inactive networks benchnet000..benchnet$(printf %03d $((bench_nets - 1))) defined on each daemon; lookups of $target_net."
  echo
  echo "Calls (first reply of the first case):"
  echo
  for call in $calls; do
    f=$out/$call-c${first%x*}-d${first#*x}${first_pin}
    replies="reference: $(j .first_reply "$f-reference.json")"
    [ "$reference_only" = 1 ] || replies+="; ours: $(j .first_reply "$f-ours.json")"
    echo "- \`$(j .call "$f-reference.json")\`: $(j .proc_name "$f-reference.json") ($(j .proc "$f-reference.json")) → $replies"
  done
  echo
  echo "| call | case | daemon | calls/s | p50 µs | p99 µs | server CPU µs/call | loadgen CPU µs/call | ours/ref calls/s |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
  for call in $calls; do
    for case in $cases; do
      pin=${case//[^p]/}; cd_=${case%p}; c=${cd_%x*} d=${cd_#*x}
      ref_cps=$(j .calls_per_s "$out/$call-c$c-d$d$pin-reference.json")
      for daemon in $daemons; do
        f=$out/$call-c$c-d$d$pin-$daemon.json
        ratio="—"
        if [ "$daemon" = ours ]; then ratio=$(awk -v a="$(j .calls_per_s "$f")" -v b="$ref_cps" 'BEGIN{printf "%.2f", a/b}'); fi
        name=$daemon; [ "$daemon" = reference ] && name="libvirtd (reference)"; [ "$daemon" = ours ] && name=$ours_label
        printf '| %s | c%s d%s%s | %s | %.0f | %.1f | %.1f | %.1f | %.1f | %s |\n' "$call" "$c" "$d" "${pin:+ (one CPU)}" "$name" \
          "$(j .calls_per_s "$f")" "$(j .p50_us "$f")" "$(j .p99_us "$f")" "$(j .server_cpu_us_per_call "$f")" "$(j .loadgen_cpu_us_per_call "$f")" "$ratio"
      done
    done
  done
  echo
  echo "| daemon | start-up: exec to socket file, median ms (min–max) | exec to first reply, median ms (min–max) | VmRSS after start | VmRSS after the benchmark |"
  echo "|---|---:|---:|---:|---:|"
  for daemon in $daemons; do
    f=$out/startup-$daemon.json
    if [ "$daemon" = reference ]; then name="libvirtd (reference)" a=$ref_rss_start b=$ref_rss_end; else name=$ours_label a=$ours_rss_start b=$ours_rss_end; fi
    printf '| %s | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) | %s kB | %s kB |\n' "$name" \
      "$(j .socket_ms_median "$f")" "$(j .socket_ms_min "$f")" "$(j .socket_ms_max "$f")" \
      "$(j .ready_ms_median "$f")" "$(j .ready_ms_min "$f")" "$(j .ready_ms_max "$f")" "$a" "$b"
  done
  echo
  echo "Start-up: $runs runs each. Raw results: $out"
} | tee "$out/results.md"
