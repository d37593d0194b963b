#!/usr/bin/env bash
# What a network start's nft batch costs through libnftables as the ruleset grows: with
# --echo --handle (new nft_ctx each time, as the daemon did; one long-lived nft_ctx), without
# echo, and the listings the daemon makes. See bench/README.md, "Network lifecycle with the Linux
# backend".
#
#   sudo bench/nft-echo-cost.sh [--networks N] [--repeat R]
#
#   --networks N   networks' rules added before the second measurement (default 200: ~2000 rules)
#   --repeat R     timings per figure (default 7); medians and every value are printed
#
# Runs in a network namespace it creates and removes (bridges vb0.. for the rules' iif/oif).
# Each "network" is the ten IPv4 rules libvirt adds for a NAT network (nat-default-linux.nftables).
# Needs root, ip, libnftables1, /usr/bin/python3.
set -euo pipefail
networks=200 repeat=7
while [ $# -gt 0 ]; do
  case "$1" in
    --networks) networks=$2; shift ;;
    --repeat) repeat=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "nft-echo-cost: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "nft-echo-cost: needs root" >&2; exit 1; }
ns=vndec$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
trap 'ip netns del $ns 2>/dev/null || true' EXIT INT TERM
ip netns add "$ns"
total=$(( networks + 4 * repeat + 10 ))
for i in $(seq 0 "$total"); do echo "link add vb$i type bridge"; done | ip -n "$ns" -batch -
ip netns exec "$ns" /usr/bin/python3 - "$networks" "$repeat" <<'PY'
import ctypes, statistics, sys, time
networks, repeat = int(sys.argv[1]), int(sys.argv[2])
lib = ctypes.CDLL("libnftables.so.1")
lib.nft_ctx_new.restype = ctypes.c_void_p
lib.nft_ctx_new.argtypes = [ctypes.c_uint]
for f in ("nft_ctx_free", "nft_ctx_buffer_output", "nft_ctx_buffer_error"):
    getattr(lib, f).argtypes = [ctypes.c_void_p]
lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
HANDLE, ECHO = 1 << 3, 1 << 5

def run(cmd, flags=0, ctx=None):
    own = ctx is None
    ctx = ctx or lib.nft_ctx_new(0)
    lib.nft_ctx_output_set_flags(ctx, flags)
    lib.nft_ctx_buffer_output(ctx)
    lib.nft_ctx_buffer_error(ctx)
    rc = lib.nft_run_cmd_from_buffer(ctx, cmd.encode())
    err = lib.nft_ctx_get_error_buffer(ctx).decode()
    if own:
        lib.nft_ctx_free(ctx)
    if rc:
        raise RuntimeError(err)

def network(i):
    b, s = f'"vb{i}"', f"10.{i // 250}.{i % 250}.0/24"
    rules = [f"guest_output iif {b} counter reject", f"guest_input oif {b} counter reject",
             f"guest_cross iif {b} oif {b} counter accept", f"guest_output ip saddr {s} iif {b} counter accept",
             f"guest_input oif {b} ip daddr {s} ct state related,established counter accept",
             f"guest_nat ip saddr {s} ip daddr != {s} counter masquerade",
             f"guest_nat meta l4proto udp ip saddr {s} ip daddr != {s} counter masquerade to :1024-65535",
             f"guest_nat meta l4proto tcp ip saddr {s} ip daddr != {s} counter masquerade to :1024-65535",
             f"guest_nat ip saddr {s} ip daddr 255.255.255.255/32 counter return",
             f"guest_nat ip saddr {s} ip daddr 224.0.0.0/24 counter return"]
    return "".join(f"insert rule ip libvirt_network {r}\n" for r in rules)

run("add table ip libvirt_network\n"
    "add chain ip libvirt_network forward { type filter hook forward priority 0; policy accept; }\n"
    "add chain ip libvirt_network guest_output\nadd chain ip libvirt_network guest_input\n"
    "add chain ip libvirt_network guest_cross\n"
    "add chain ip libvirt_network guest_nat { type nat hook postrouting priority 100; policy accept; }\n")
added = 0
long_lived = lib.nft_ctx_new(0)

def add(flags=0, ctx=None):
    global added
    run(network(added), flags, ctx)
    added += 1

figures = [("batch, --echo --handle, new nft_ctx", lambda: add(ECHO | HANDLE)),
           ("batch, --echo --handle, long-lived nft_ctx", lambda: add(ECHO | HANDLE, long_lived)),
           ("batch, no echo", lambda: add()),
           ("list chains ip", lambda: run("list chains ip")),
           ("list chain ip libvirt_network forward", lambda: run("list chain ip libvirt_network forward", HANDLE)),
           ("-a list table ip libvirt_network", lambda: run("list table ip libvirt_network", HANDLE))]
for target in (0, networks):
    while added < target:
        add()
    results = []
    for name, fn in figures:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        results.append((name, times))
    print(f"with {added} networks' rules (~{added * 10} rules):")
    for name, times in results:
        print(f"  {name:42s} median {statistics.median(times):7.2f} ms   {' '.join(f'{x:.1f}' for x in times)}")
PY
