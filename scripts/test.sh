#!/usr/bin/env bash
# The whole test suite, as README.md gives it: installs the Debian packages the tests use
# (real libvirt clients, the reference daemon, dnsmasq, nftables, iptables, iproute2, busybox for
# its DHCP client udhcpc, dig from bind9-dnsutils, the DHCPv6 client dhclient from isc-dhcp-client,
# dbus-daemon for the private system buses of the systemd-resolved tests, which fetch and unpack
# systemd-resolved's package themselves, never installing it), then
# runs every test project and ends with one line "N passed, N failed" counted from the
# test results (TRX files). Exit status: 0 only when every test ran and passed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libvirt-clients libvirt-daemon python3-libvirt dnsmasq-base nftables iptables iproute2 busybox bind9-dnsutils isc-dhcp-client dbus-daemon)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then echo "run as root to install ${missing[*]}" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

results=TestResults
rm -rf "$results"
status=0
dotnet test VirtNetworkd.sln -c Release --logger "trx" --results-directory "$results" "$@" || status=$?

# count from the TRX files: one per test project
read -r passed failed total < <(python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
p = f = t = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find(".//{*}ResultSummary/{*}Counters")
    p += int(c.get("passed", 0)); t += int(c.get("total", 0))
    f += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
print(p, f, t)
PY
)
if [ "$total" = 0 ]; then echo "no tests ran" >&2; status=1; fi
echo "$passed passed, $failed failed"
exit $status
