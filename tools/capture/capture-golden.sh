#!/usr/bin/env bash
# Re-captures the golden RPC vectors of tests/Protocol.Tests/Golden from real
# libvirt clients (virsh, python3-libvirt) talking to the real reference daemon
# through libvirt-capture.py.
#
#   bash /work/shared/reference/reference-daemon.sh start
#   tools/capture/capture-golden.sh [WORKDIR [GOLDEN_DIR]]
#   bash /work/shared/reference/reference-daemon.sh stop
#
# WORKDIR (default /tmp/vn-capture) receives the proxy socket, every captured packet
# (WORKDIR/out, with index.tsv) and commands.txt (one client command per connection,
# in connection order). GOLDEN_DIR defaults to tests/Protocol.Tests/Golden.
# REF_SOCK overrides the daemon socket (default /tmp/vn-reference/libvirt-sock).
# Networks golden1..golden3 are (re)defined in the reference daemon and removed again
# at the end (directly, not through the proxy).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/vn-capture}
golden=$(realpath -m "${2:-$here/../../tests/Protocol.Tests/Golden}")
ref=${REF_SOCK:-/tmp/vn-reference/libvirt-sock}
py=/usr/bin/python3
[ -S "$ref" ] || { echo "no daemon socket $ref: run reference-daemon.sh start first" >&2; exit 1; }
direct="network:///system?socket=$ref"

cleanup_networks() {
  for n in golden1 golden2 golden3; do
    virsh -q -c "$direct" net-destroy "$n" >/dev/null 2>&1 || true
    virsh -q -c "$direct" net-undefine "$n" >/dev/null 2>&1 || true
  done
}
cleanup_networks
rm -rf "$work"; mkdir -p "$work"; cd "$work"

cat > golden1.xml <<'EOF'
<network>
  <name>golden1</name>
  <forward mode='nat'/>
  <bridge name='vnbr1'/>
  <ip address='192.168.150.1' netmask='255.255.255.0'/>
</network>
EOF
cat > golden2.xml <<'EOF'
<network>
  <name>golden2</name>
  <bridge name='vnbr2'/>
  <ip address='192.168.151.1' netmask='255.255.255.0'/>
</network>
EOF
cat > golden3.xml <<'EOF'
<network>
  <name>golden3</name>
  <bridge name='vnbr3'/>
</network>
EOF

"$py" "$here/libvirt-capture.py" --listen "$work/proxy.sock" --upstream "$ref" --out "$work/out" \
  > "$work/proxy.log" 2>&1 &
proxy=$!
trap 'kill $proxy 2>/dev/null || true; cleanup_networks' EXIT
for _ in $(seq 1 50); do [ -S "$work/proxy.sock" ] && break; sleep 0.1; done
U="network:///system?socket=$work/proxy.sock"

# Shell-quote an argument list readably (for commands.txt).
show() {
  local out= a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,@+-]+$ ]]; then out+="$a "; else out+="'$a' "; fi
  done
  echo "${out% }"
}
# Every client command below opens exactly one connection, in this order.
log() { show "$@" >> commands.txt; echo "\$ $(show "$@")" >&2; }
run() { log "$@"; "$@"; }

run virsh -c "$U" net-define golden1.xml                       # c1
run virsh -c "$U" net-define golden2.xml                       # c2
run virsh -c "$U" net-list --all                               # c3
run virsh -c "$U" net-dumpxml golden1                          # c4
run virsh -c "$U" net-info nosuchnet || true                   # c5 (error reply)
run "$py" -c 'import sys, libvirt; c = libvirt.open(sys.argv[1]); print(c.getLibVersion()); c.close()' "$U"  # c6
# c7: event listener with client keepalive every 2 s; c8 starts golden1 meanwhile
log "$py" "$here/event-listener.py" "$U" 12 2
"$py" "$here/event-listener.py" "$U" 12 2 &
listener=$!; sleep 3
run virsh -c "$U" net-start golden1                            # c8
wait $listener
# c9: event listener without client keepalive (the server pings it); c10 defines golden3
log "$py" "$here/event-listener.py" "$U" 13 0
"$py" "$here/event-listener.py" "$U" 13 0 &
listener=$!; sleep 2
run virsh -c "$U" net-define golden3.xml                       # c10
wait $listener

kill $proxy; wait $proxy 2>/dev/null || true
trap cleanup_networks EXIT
"$py" "$here/make-golden.py" "$work" "$golden"
"$py" "$here/make-golden.py" --verify "$golden"
