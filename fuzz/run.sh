#!/usr/bin/env bash
# The fuzzing harness (fuzz/README.md). SharpFuzz instruments our assemblies; afl-fuzz drives them.
#
#   fuzz/run.sh --list                  the target names, one a line
#   fuzz/run.sh TARGET SECONDS          build, fuzz TARGET for SECONDS from its kept corpus and
#                                       generated seeds; ends with the line
#                                       "TARGET execs=N execs_per_sec=N paths=N crashes=N hangs=N"
#   fuzz/run.sh --ci [SECONDS]          every target for SECONDS (default 15), after replaying the
#                                       kept corpora and findings; non-zero exit on any crash or hang
#   fuzz/run.sh --repro TARGET FILE...  run inputs once (no afl): prints each finding
#   fuzz/run.sh --cmin TARGET           minimise the last run's queue into fuzz/corpus/TARGET
#
# Environment: FUZZ_HEAP_LIMIT (bytes, default 512 MiB: the GC heap hard limit per fuzzing
# process), FUZZ_TIMEOUT_MS (default 1000: an input running longer is a hang), LIBVIRT_SRC
# (libvirt's source tree for the XML seeds; default: the tests' cache), FUZZ_EXECS (a campaign:
# also stop after about N executions, afl-fuzz -E; SECONDS stays the upper bound).
# Runs afl-fuzz under `nice -n 19`, one process at a time. Needs root only to install afl++.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
fuzz=$repo/fuzz
work=$fuzz/.work
build=$work/build
inst=$work/instrumented
sharpfuzz_version=2.3.0
heap_limit=${FUZZ_HEAP_LIMIT:-$((512 * 1024 * 1024))}
timeout_ms=${FUZZ_TIMEOUT_MS:-1000}
execs_limit=()
if [ -n "${FUZZ_EXECS:-}" ]; then execs_limit=(-E "$FUZZ_EXECS"); fi
# the assemblies SharpFuzz instruments: everything of ours an untrusted input reaches
instrument=(VirtNetworkd.Errors.dll VirtNetworkd.Protocol.dll VirtNetworkd.NetworkDriver.dll VirtNetworkd.Host.dll virtnetworkd.dll)

log() { echo "fuzz: $*" >&2; }

ensure_tools() {
  if ! command -v afl-fuzz >/dev/null; then
    if [ "$(id -u)" != 0 ]; then log "afl-fuzz is missing: apt-get install afl++ (as root)"; exit 1; fi
    log "installing afl++"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++ >/dev/null
  fi
  if [ ! -x "$fuzz/.tools/sharpfuzz" ]; then
    log "installing SharpFuzz.CommandLine $sharpfuzz_version"
    dotnet tool install SharpFuzz.CommandLine --version "$sharpfuzz_version" --tool-path "$fuzz/.tools" >/dev/null
  fi
}

# builds the targets and (again, only when the build changed) the instrumented copy
build_targets() {
  mkdir -p "$work"
  if ! dotnet build "$fuzz/Targets/Targets.csproj" -c Release -o "$build" -nologo -v q > "$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    log "build failed"
    exit 1
  fi
  local stamp
  # the list of instrumented assemblies is part of the stamp: adding one instruments again
  stamp=$( (cd "$build" && sha256sum ./*.dll; echo "${instrument[*]}") | sha256sum | cut -d' ' -f1)
  if [ -f "$inst/.stamp" ] && [ "$(cat "$inst/.stamp")" = "$stamp" ]; then return; fi
  rm -rf "$inst"
  cp -r "$build" "$inst"
  for dll in "${instrument[@]}"; do
    "$fuzz/.tools/sharpfuzz" "$inst/$dll" > "$work/instrument.log" 2>&1 || { cat "$work/instrument.log" >&2; log "sharpfuzz failed on $dll"; exit 1; }
  done
  echo "$stamp" > "$inst/.stamp"
}

runner() { echo "$(command -v dotnet)" "$inst/VirtNetworkd.Fuzz.dll"; }

targets() { dotnet "$inst/VirtNetworkd.Fuzz.dll" list; }

libvirt_src() {
  if [ -n "${LIBVIRT_SRC:-}" ]; then echo "$LIBVIRT_SRC"; return; fi
  for d in "$repo/.cache/libvirt-src-trixie" "${XDG_CACHE_HOME:-$HOME/.cache}/virtnetworkd/libvirt-src-trixie"; do
    if [ -f "$d/.complete" ]; then echo "$d"; return; fi
  done
  local script=$repo/../shared/reference/libvirt-source.sh
  if [ -f "$script" ] && SUITE=trixie bash "$script" "$repo/.cache/libvirt-src-trixie" >/dev/null 2>&1; then
    echo "$repo/.cache/libvirt-src-trixie"
  fi
}

# input folder for afl-fuzz: the kept corpus plus the generated seeds
prepare_inputs() {
  local target=$1 in=$work/$1/in
  rm -rf "$in"
  mkdir -p "$in" "$fuzz/dict"
  # shellcheck disable=SC2046
  dotnet "$inst/VirtNetworkd.Fuzz.dll" seeds "$target" "$in" $(libvirt_src) >/dev/null
  if [ -d "$fuzz/corpus/$target" ]; then cp "$fuzz/corpus/$target"/* "$in"/ 2>/dev/null || true; fi
  # afl-fuzz wants inputs under 1 MB
  find "$in" -type f -size +1000k -delete
  dotnet "$inst/VirtNetworkd.Fuzz.dll" dict "$target" "$fuzz/dict/$target.dict"
}

stat_field() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$2"; }

# prints and keeps what afl-fuzz saved; confirms each by running it again outside afl
report_findings() {
  local target=$1 out=$work/$1/out/default kind file keep confirmed=0
  for kind in crashes hangs; do
    [ -d "$out/$kind" ] || continue
    for file in "$out/$kind"/id:*; do
      [ -f "$file" ] || continue
      keep=$fuzz/findings/$target/$kind-$(sha1sum "$file" | cut -c1-16)
      mkdir -p "$(dirname "$keep")"
      cp "$file" "$keep"
      echo "---- $target: $kind input kept as ${keep#"$repo"/} ($(stat -c %s "$file") bytes), hex:"
      head -c 512 "$file" | od -An -tx1 -v | sed 's/^ //'
      echo "---- reproduce: fuzz/run.sh --repro $target ${keep#"$repo"/}"
      if dotnet "$inst/VirtNetworkd.Fuzz.dll" repro "$target" "$file" | sed 's/^/     /'; then
        echo "     (does not reproduce outside afl-fuzz)"
      else
        confirmed=$((confirmed + 1))
      fi
    done
  done
  return $confirmed
}

fuzz_target() {
  local target=$1 seconds=$2 out=$work/$1/out
  prepare_inputs "$target"
  rm -rf "$out"
  local status=0
  # shellcheck disable=SC2046
  env AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 \
      AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 \
      DOTNET_GCHeapHardLimit=$(printf '0x%x' "$heap_limit") DOTNET_gcServer=0 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
      nice -n 19 afl-fuzz -i "$work/$target/in" -o "$out" -t "$timeout_ms" -m none -V "$seconds" "${execs_limit[@]}" \
        -x "$fuzz/dict/$target.dict" -- $(runner) afl "$target" > "$work/$target/afl.log" 2>&1 || status=$?
  local stats=$out/default/fuzzer_stats
  if [ ! -f "$stats" ] && grep -q "No instrumentation detected" "$work/$target/afl.log"; then
    # seen once on rpc (of ~12 starts): the first dry run came back with an empty map; not
    # understood yet, a second start has always worked
    log "$target: afl-fuzz saw no instrumentation on its first run; starting it once more"
    rm -rf "$out"
    status=0
    # shellcheck disable=SC2046
    env AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 \
        AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 \
        DOTNET_GCHeapHardLimit=$(printf '0x%x' "$heap_limit") DOTNET_gcServer=0 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
        nice -n 19 afl-fuzz -i "$work/$target/in" -o "$out" -t "$timeout_ms" -m none -V "$seconds" "${execs_limit[@]}" \
          -x "$fuzz/dict/$target.dict" -- $(runner) afl "$target" > "$work/$target/afl.log" 2>&1 || status=$?
  fi
  if [ ! -f "$stats" ]; then
    tail -40 "$work/$target/afl.log" >&2
    log "afl-fuzz did not start for $target (exit $status)"
    echo "$target execs=0 execs_per_sec=0 paths=0 crashes=0 hangs=0"
    return 2
  fi
  local execs eps paths crashes hangs confirmed=0
  execs=$(stat_field execs_done "$stats")
  eps=$(stat_field execs_per_sec "$stats")
  paths=$(stat_field corpus_count "$stats")
  crashes=$(stat_field saved_crashes "$stats")
  hangs=$(stat_field saved_hangs "$stats")
  report_findings "$target" || confirmed=$?
  echo "$target execs=$execs execs_per_sec=${eps%.*} paths=$paths crashes=$crashes hangs=$hangs"
  [ "$confirmed" = 0 ]
}

case "${1:-}" in
  --list)
    ensure_tools
    build_targets
    targets
    ;;
  --repro)
    [ $# -ge 3 ] || { echo "usage: fuzz/run.sh --repro TARGET FILE..." >&2; exit 2; }
    ensure_tools
    build_targets
    dotnet "$inst/VirtNetworkd.Fuzz.dll" repro "${@:2}"
    ;;
  --cmin)
    [ $# = 2 ] || { echo "usage: fuzz/run.sh --cmin TARGET" >&2; exit 2; }
    ensure_tools
    build_targets
    queue=$work/$2/out/default/queue
    [ -d "$queue" ] || { log "no queue for $2: run fuzz/run.sh $2 SECONDS first"; exit 1; }
    rm -rf "$work/$2/cmin"
    # shellcheck disable=SC2046
    env AFL_SKIP_BIN_CHECK=1 DOTNET_GCHeapHardLimit=$(printf '0x%x' "$heap_limit") \
      nice -n 19 afl-cmin -i "$queue" -o "$work/$2/cmin" -t 5000 -m none -- $(runner) afl "$2" >&2
    rm -rf "$fuzz/corpus/$2"
    mkdir -p "$fuzz/corpus/$2"
    i=0
    for f in "$work/$2/cmin"/*; do cp "$f" "$fuzz/corpus/$2/$(sha1sum "$f" | cut -c1-16)"; i=$((i + 1)); done
    log "$2: $i inputs in fuzz/corpus/$2 ($(du -sh "$fuzz/corpus/$2" | cut -f1))"
    ;;
  --ci)
    seconds=${2:-15}
    ensure_tools
    build_targets
    failed=0
    for t in $(targets); do
      replay=()
      [ -d "$fuzz/corpus/$t" ] && replay+=("$fuzz/corpus/$t")
      [ -d "$fuzz/findings/$t" ] && replay+=("$fuzz/findings/$t")
      if [ ${#replay[@]} -gt 0 ] && ! dotnet "$inst/VirtNetworkd.Fuzz.dll" repro "$t" "${replay[@]}" > "$work/replay-$t.log"; then
        grep -E '^(CRASH|HANG)' "$work/replay-$t.log" | head -20
        log "$t: the kept corpus or findings fail (fuzz/run.sh --repro $t ${replay[*]#"$repo"/})"
        failed=1
      fi
      fuzz_target "$t" "$seconds" || failed=1
    done
    exit $failed
    ;;
  ""|-h|--help)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
  *)
    [ $# = 2 ] && [[ $2 =~ ^[0-9]+$ ]] || { echo "usage: fuzz/run.sh TARGET SECONDS | --list | --ci [SECONDS] | --repro TARGET FILE... | --cmin TARGET" >&2; exit 2; }
    ensure_tools
    build_targets
    targets | grep -qx "$1" || { log "unknown target '$1'; targets: $(targets | tr '\n' ' ')"; exit 2; }
    fuzz_target "$1" "$2"
    ;;
esac
