"""Every net-update command x section x flag on an active and on an inactive persistent network,
plus invalid snippets; prints one JSON object per case (result, error, both dumpxml forms).

usage: netupdate_matrix.py URI TAG
TAG (a few letters or digits) makes the network names (nuTAG-iso, ...) and bridge names
(vnuTAG0, ...) of one run unique, so runs on a shared reference daemon do not clash.
Run once against libvirt and once against our daemon, each with its own python3-libvirt, and
compare the outputs line by line. Each case starts from the same network (reset only when the
previous case left it changed).
"""
import json
import sys
import libvirt

uri, tag = sys.argv[1:3]
prefix = f"nu{tag}-"
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(uri)

ISO = prefix + "iso"
POOL = prefix + "pool"
DUAL = prefix + "dual"
BASE = {
    ISO: f"""<network>
  <name>{ISO}</name>
  <uuid>6f1c2a4e-9d1b-4c61-8b7e-1a2b3c4d5e01</uuid>
  <bridge name='vnu{tag}0' stp='on' delay='0'/>
  <mac address='52:54:00:aa:00:01'/>
  <domain name='nu.example'/>
  <dns>
    <txt name='t1' value='v1'/>
    <host ip='192.168.231.50'><hostname>h1</hostname></host>
    <srv service='sip' protocol='tcp' domain='nu.example' target='s1' port='5060' priority='10' weight='10'/>
  </dns>
  <ip address='192.168.231.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.231.100' end='192.168.231.150'/>
      <host mac='52:54:00:00:00:01' name='vm1' ip='192.168.231.10'/>
    </dhcp>
  </ip>
  <portgroup name='pg1'/>
</network>""",
    POOL: f"""<network>
  <name>{POOL}</name>
  <uuid>6f1c2a4e-9d1b-4c61-8b7e-1a2b3c4d5e02</uuid>
  <forward mode='bridge'>
    <interface dev='nuif0'/>
    <interface dev='nuif1'/>
  </forward>
</network>""",
    DUAL: f"""<network>
  <name>{DUAL}</name>
  <uuid>6f1c2a4e-9d1b-4c61-8b7e-1a2b3c4d5e03</uuid>
  <bridge name='vnu{tag}1'/>
  <mac address='52:54:00:aa:00:03'/>
  <ip address='192.168.234.1' netmask='255.255.255.0'/>
  <ip address='192.168.235.1' prefix='24'>
    <dhcp>
      <range start='192.168.235.100' end='192.168.235.150'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='2001:db8:234::1' prefix='64'>
    <dhcp>
      <range start='2001:db8:234::100' end='2001:db8:234::1ff'/>
      <host id='0:4:7e:7d:f0:7d:a8:bc:c5:d2:13:32:11:ed:16:ea:84:63' name='v6a' ip='2001:db8:234::10'/>
    </dhcp>
  </ip>
</network>""",
}

# section -> (network, wire value, new item, existing item (exact), existing item modified)
SECTIONS = {
    "bridge": (ISO, 1, f"<bridge name='vnu{tag}9' stp='off'/>", f"<bridge name='vnu{tag}0' stp='on' delay='0'/>", f"<bridge name='vnu{tag}0' stp='off'/>"),
    "domain": (ISO, 2, "<domain name='other.example'/>", "<domain name='nu.example'/>", "<domain name='nu.example' localOnly='yes'/>"),
    "ip": (ISO, 3, "<ip address='192.168.233.1' netmask='255.255.255.0'/>", "<ip address='192.168.231.1' netmask='255.255.255.0'/>",
           "<ip address='192.168.231.1' prefix='24'/>"),
    "ip-dhcp-host": (ISO, 4, "<host mac='52:54:00:00:00:02' name='vm2' ip='192.168.231.11'/>",
                     "<host mac='52:54:00:00:00:01' name='vm1' ip='192.168.231.10'/>",
                     "<host mac='52:54:00:00:00:01' name='vm1b' ip='192.168.231.12'/>"),
    "ip-dhcp-range": (ISO, 5, "<range start='192.168.231.160' end='192.168.231.170'/>", "<range start='192.168.231.100' end='192.168.231.150'/>",
                      "<range start='192.168.231.100' end='192.168.231.140'/>"),
    "forward": (ISO, 6, "<forward mode='nat'/>", "<forward mode='nat'/>", "<forward mode='route'/>"),
    "forward-interface": (POOL, 7, "<interface dev='nuif2'/>", "<interface dev='nuif1'/>", "<interface dev='nuif0'/>"),
    "forward-pf": (POOL, 8, "<pf dev='nupf0'/>", "<pf dev='nupf0'/>", "<pf dev='nupf1'/>"),
    "portgroup": (ISO, 9, "<portgroup name='pg2'/>", "<portgroup name='pg1'/>", "<portgroup name='pg1' default='yes'/>"),
    "dns-host": (ISO, 10, "<host ip='192.168.231.51'><hostname>h2</hostname></host>", "<host ip='192.168.231.50'><hostname>h1</hostname></host>",
                 "<host ip='192.168.231.50'><hostname>h1</hostname><hostname>h1b</hostname></host>"),
    "dns-txt": (ISO, 11, "<txt name='t2' value='v2'/>", "<txt name='t1' value='v1'/>", "<txt name='t1' value='v1b'/>"),
    "dns-srv": (ISO, 12, "<srv service='ldap' protocol='tcp' target='s2' port='389'/>",
                "<srv service='sip' protocol='tcp' domain='nu.example' target='s1' port='5060' priority='10' weight='10'/>",
                "<srv service='sip' protocol='tcp' domain='nu.example' target='s1' port='5061' priority='10' weight='10'/>"),
}
COMMANDS = {"modify": 1, "delete": 2, "add-last": 3, "add-first": 4}
FLAGS = {"current": 0, "live": 1, "config": 2, "live+config": 3}
INVALID = {"malformed": "<host mac='52:54:00:00:00:09'", "wrong-element": "<bogus/>", "empty": "", "two-roots": "<a/><b/>"}


def lookup(name):
    try:
        return conn.networkLookupByName(name)
    except libvirt.libvirtError:
        return None


def dumps(net):
    try:
        live = net.XMLDesc(0)
    except libvirt.libvirtError as e:
        live = "ERROR " + str(e)
    try:
        inactive = net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
    except libvirt.libvirtError as e:
        inactive = "ERROR " + str(e)
    return live, inactive


def reset(name, active):
    net = lookup(name)
    if net is not None:
        if net.isActive():
            net.destroy()
        if net.isPersistent():
            net.undefine()
    net = conn.networkDefineXML(BASE[name])
    if active:
        net.create()
    return net


baseline = {}   # (name, active) -> dumps right after a reset
current = {}    # name -> (active, net)


def prepare(name, active):
    state = current.get(name)
    if state is not None and state[0] == active and net_is(state[1], active) and dumps(state[1]) == baseline[(name, active)]:
        return state[1]
    net = reset(name, active)
    baseline[(name, active)] = dumps(net)
    current[name] = (active, net)
    return net


def net_is(net, active):
    try:
        return net.isActive() == (1 if active else 0) and net.isPersistent() == 1
    except libvirt.libvirtError:
        return False


def run(case_id, name, active, command, section, xml, flags, parent=-1):
    net = prepare(name, active)
    ok, err, code = True, "", 0
    try:
        net.update(command, section, parent, xml, flags)
    except libvirt.libvirtError as e:
        ok, err, code = False, e.get_error_message() or "", e.get_error_code()
    live, inactive = dumps(net)
    print(json.dumps({"id": case_id, "ok": ok, "code": code, "error": err, "live": live, "inactive": inactive}), flush=True)


for state, active in (("active", True), ("inactive", False)):
    for sname, (net_name, sval, new, exact, modified) in SECTIONS.items():
        for cname, cval in COMMANDS.items():
            for item_kind, item in (("new", new), ("existing", modified if cname == "modify" else exact)):
                for fname, fval in FLAGS.items():
                    run(f"{state}/{sname}/{cname}/{item_kind}/{fname}", net_name, active, cval, sval, item, fval)
    for sname, (net_name, sval, *_) in SECTIONS.items():
        for cname, cval in COMMANDS.items():
            for iname, item in INVALID.items():
                run(f"{state}/{sname}/{cname}/invalid-{iname}/current", net_name, active, cval, sval, item, 0)

# edge cases: (network, section, command, xml), each on the active network (live+config) and
# on the inactive one (config)
ADD, DEL, MOD = 3, 2, 1
EXTRAS = {
    "dhcp-host-outside-subnet": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3' ip='10.9.9.9'/>"),
    "dhcp-host-in-range": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3' ip='192.168.231.120'/>"),
    "dhcp-host-network-address": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3' ip='192.168.231.0'/>"),
    "dhcp-host-no-ip": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3'/>"),
    "dhcp-host-ip-only": (ISO, 4, ADD, "<host ip='192.168.231.13'/>"),
    "dhcp-host-mac-only": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03'/>"),
    "dhcp-host-name-only": (ISO, 4, ADD, "<host name='vm3'/>"),
    "dhcp-host-bad-mac": (ISO, 4, ADD, "<host mac='52:54:00:00:00:zz' name='vm3' ip='192.168.231.13'/>"),
    "dhcp-host-multicast-mac": (ISO, 4, ADD, "<host mac='01:54:00:00:00:03' name='vm3' ip='192.168.231.13'/>"),
    "dhcp-host-upper-mac": (ISO, 4, ADD, "<host mac='52:54:00:AB:00:03' name='vm3' ip='192.168.231.13'/>"),
    "dhcp-host-same-mac": (ISO, 4, ADD, "<host mac='52:54:00:00:00:01' name='vm3' ip='192.168.231.13'/>"),
    "dhcp-host-same-ip": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3' ip='192.168.231.10'/>"),
    "dhcp-host-same-name": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm1' ip='192.168.231.13'/>"),
    "dhcp-host-bad-name": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03' name='-bad name' ip='192.168.231.13'/>"),
    "dhcp-host-lease": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3' ip='192.168.231.13'><lease expiry='1' unit='hours'/></host>"),
    "dhcp-host-bad-lease": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3' ip='192.168.231.13'><lease expiry='1' unit='weeks'/></host>"),
    "dhcp-host-delete-by-mac": (ISO, 4, DEL, "<host mac='52:54:00:00:00:01'/>"),
    "dhcp-host-delete-by-name": (ISO, 4, DEL, "<host name='vm1'/>"),
    "dhcp-host-delete-by-ip": (ISO, 4, DEL, "<host ip='192.168.231.10'/>"),
    "dhcp-host-delete-mismatch": (ISO, 4, DEL, "<host mac='52:54:00:00:00:01' name='other'/>"),
    "dhcp-host-modify-by-name": (ISO, 4, MOD, "<host name='vm1' ip='192.168.231.14'/>"),
    "dhcp-host-modify-by-ip": (ISO, 4, MOD, "<host mac='52:54:00:00:00:05' ip='192.168.231.10'/>"),
    "dhcp-host-whitespace-comment": (ISO, 4, ADD, "  <!-- c --><host mac='52:54:00:00:00:03' name='vm3' ip='192.168.231.13'/>  "),
    "dhcp-host-extra-attr": (ISO, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3' ip='192.168.231.13' junk='1'/>"),
    "dhcp-host-v4-in-dual": (DUAL, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3' ip='192.168.235.13'/>"),
    "dhcp-host-v4-nodhcp-ip-in-dual": (DUAL, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3' ip='192.168.234.13'/>"),
    "dhcp-host-v6-in-dual": (DUAL, 4, ADD, "<host id='0:1:2:3' name='v6b' ip='2001:db8:234::11'/>"),
    "dhcp-host-v6-with-mac": (DUAL, 4, ADD, "<host mac='52:54:00:00:00:04' name='v6c' ip='2001:db8:234::12'/>"),
    "dhcp-host-v6-delete": (DUAL, 4, DEL, "<host id='0:4:7e:7d:f0:7d:a8:bc:c5:d2:13:32:11:ed:16:ea:84:63' name='v6a' ip='2001:db8:234::10'/>"),
    "dhcp-range-v4-in-dual": (DUAL, 5, ADD, "<range start='192.168.235.160' end='192.168.235.170'/>"),
    "dhcp-range-v6-in-dual": (DUAL, 5, ADD, "<range start='2001:db8:234::200' end='2001:db8:234::2ff'/>"),
    "dhcp-range-outside": (ISO, 5, ADD, "<range start='192.168.9.1' end='192.168.9.10'/>"),
    "dhcp-range-reversed": (ISO, 5, ADD, "<range start='192.168.231.170' end='192.168.231.160'/>"),
    "dhcp-range-overlap": (ISO, 5, ADD, "<range start='192.168.231.140' end='192.168.231.160'/>"),
    "dhcp-range-lease": (ISO, 5, ADD, "<range start='192.168.231.160' end='192.168.231.170'><lease expiry='2' unit='minutes'/></range>"),
    "dhcp-range-no-end": (ISO, 5, ADD, "<range start='192.168.231.160'/>"),
    "dhcp-range-mixed-family": (ISO, 5, ADD, "<range start='192.168.231.160' end='2001:db8::1'/>"),
    "dhcp-range-delete-partial": (ISO, 5, DEL, "<range start='192.168.231.100' end='192.168.231.151'/>"),
    "portgroup-default": (ISO, 9, ADD, "<portgroup name='pg2' default='yes'/>"),
    "portgroup-second-default": (ISO, 9, ADD, "<portgroup name='pg2' default='yes'/><portgroup name='pg3' default='yes'/>"),
    "portgroup-vlan": (ISO, 9, ADD, "<portgroup name='pg2'><vlan><tag id='42'/></vlan></portgroup>"),
    "portgroup-bandwidth": (ISO, 9, ADD, "<portgroup name='pg2'><bandwidth><inbound average='1000'/></bandwidth></portgroup>"),
    "portgroup-bad-bandwidth": (ISO, 9, ADD, "<portgroup name='pg2'><bandwidth><inbound/></bandwidth></portgroup>"),
    "portgroup-no-name": (ISO, 9, ADD, "<portgroup/>"),
    "portgroup-vport": (ISO, 9, ADD, "<portgroup name='pg2'><virtualport type='openvswitch'/></portgroup>"),
    "portgroup-modify-missing": (ISO, 9, MOD, "<portgroup name='pgX' default='yes'/>"),
    "portgroup-in-pool": (POOL, 9, ADD, "<portgroup name='pg2' default='yes'/>"),
    "dns-host-no-hostname": (ISO, 10, ADD, "<host ip='192.168.231.52'/>"),
    "dns-host-no-ip": (ISO, 10, ADD, "<host><hostname>h3</hostname></host>"),
    "dns-host-same-ip": (ISO, 10, ADD, "<host ip='192.168.231.50'><hostname>h3</hostname></host>"),
    "dns-host-same-name": (ISO, 10, ADD, "<host ip='192.168.231.53'><hostname>h1</hostname></host>"),
    "dns-host-v6": (ISO, 10, ADD, "<host ip='2001:db8::5'><hostname>h6</hostname></host>"),
    "dns-host-two-names": (ISO, 10, ADD, "<host ip='192.168.231.54'><hostname>a</hostname><hostname>b</hostname></host>"),
    "dns-host-delete-by-ip": (ISO, 10, DEL, "<host ip='192.168.231.50'/>"),
    "dns-host-delete-by-name": (ISO, 10, DEL, "<host><hostname>h1</hostname></host>"),
    "dns-host-modify-other-ip": (ISO, 10, MOD, "<host ip='192.168.231.59'><hostname>h1</hostname></host>"),
    "dns-host-in-dual-no-dns": (DUAL, 10, ADD, "<host ip='192.168.234.5'><hostname>d1</hostname></host>"),
    "dns-host-delete-in-dual": (DUAL, 10, DEL, "<host ip='192.168.234.5'><hostname>d1</hostname></host>"),
    "dns-txt-no-value": (ISO, 11, ADD, "<txt name='t3'/>"),
    "dns-txt-no-name": (ISO, 11, ADD, "<txt value='v3'/>"),
    "dns-txt-space-name": (ISO, 11, ADD, "<txt name='t 3' value='v3'/>"),
    "dns-txt-delete-by-name": (ISO, 11, DEL, "<txt name='t1'/>"),
    "dns-txt-delete-other-value": (ISO, 11, DEL, "<txt name='t1' value='zz'/>"),
    "dns-txt-modify-missing": (ISO, 11, MOD, "<txt name='tX' value='v'/>"),
    "dns-txt-in-dual": (DUAL, 11, ADD, "<txt name='d' value='v'/>"),
    "dns-srv-minimal": (ISO, 12, ADD, "<srv service='x' protocol='udp'/>"),
    "dns-srv-no-service": (ISO, 12, ADD, "<srv protocol='tcp' target='s'/>"),
    "dns-srv-bad-protocol": (ISO, 12, ADD, "<srv service='x' protocol='sctpx' target='s' port='1'/>"),
    "dns-srv-long-service": (ISO, 12, ADD, "<srv service='abcdefghijklmnopq' protocol='tcp'/>"),
    "dns-srv-bad-port": (ISO, 12, ADD, "<srv service='x' protocol='tcp' target='s' port='99999'/>"),
    "dns-srv-port-no-target": (ISO, 12, ADD, "<srv service='x' protocol='tcp' port='1'/>"),
    "dns-srv-delete-by-service": (ISO, 12, DEL, "<srv service='sip' protocol='tcp'/>"),
    "dns-srv-delete-by-service-only": (ISO, 12, DEL, "<srv service='sip'/>"),
    "dns-srv-delete-by-target": (ISO, 12, DEL, "<srv service='sip' protocol='tcp' target='s1'/>"),
    "dns-srv-add-partial-dup": (ISO, 12, ADD, "<srv service='sip' protocol='tcp'/>"),
    "dns-srv-in-dual": (DUAL, 12, ADD, "<srv service='x' protocol='tcp'/>"),
    "forward-interface-no-dev": (POOL, 7, ADD, "<interface/>"),
    "forward-interface-on-iso": (ISO, 7, ADD, "<interface dev='nuif2'/>"),
    "forward-interface-delete-last": (POOL, 7, DEL, "<interface dev='nuif0'/>"),
    "dhcp-host-on-pool": (POOL, 4, ADD, "<host mac='52:54:00:00:00:03' name='vm3' ip='192.168.231.13'/>"),
    "dhcp-range-on-pool": (POOL, 5, ADD, "<range start='192.168.231.160' end='192.168.231.170'/>"),
    "dns-txt-on-pool": (POOL, 11, ADD, "<txt name='t' value='v'/>"),
}
for ename, (net_name, sval, cval, item) in EXTRAS.items():
    for cname in (("add-last", "add-first") if cval == ADD else ("x",)):
        c = 4 if cname == "add-first" else cval
        run(f"active/extra-{ename}/{cname}/live+config", net_name, True, c, sval, item, 3)
        run(f"inactive/extra-{ename}/{cname}/config", net_name, False, c, sval, item, 2)

# transient network: config refused
TRANSIENT = prefix + "tr"
tnet = conn.networkCreateXML(BASE[ISO].replace(ISO, TRANSIENT).replace("5e01", "5e09").replace(f"vnu{tag}0", f"vnu{tag}2").replace("aa:00:01", "aa:00:09"))
for fname, fval in FLAGS.items():
    ok, err = True, ""
    try:
        tnet.update(3, 11, -1, f"<txt name='x{fval}' value='v'/>", fval)
    except libvirt.libvirtError as e:
        ok, err = False, e.get_error_message() or ""
    live, inactive = dumps(tnet)
    print(json.dumps({"id": f"transient/dns-txt/add-last/new/{fname}", "ok": ok, "code": 0, "error": err, "live": live, "inactive": inactive}), flush=True)
tnet.destroy()

# parent index on the <ip> of DHCP sections, unknown command/section values, bad flags
for pidx in (0, 1, -2):
    run(f"active/ip-dhcp-host/add-last/parent-{pidx}/current", ISO, True, 3, 4, SECTIONS["ip-dhcp-host"][2], 0, pidx)
    run(f"active/ip-dhcp-range/add-last/parent-{pidx}/current", ISO, True, 3, 5, SECTIONS["ip-dhcp-range"][2], 0, pidx)
for pidx in (0, 1, 2, 3):
    run(f"active/dual-ip-dhcp-host/add-last/parent-{pidx}/live+config", DUAL, True, 3, 4, "<host mac='52:54:00:00:00:03' name='vm3' ip='192.168.235.13'/>", 3, pidx)
    run(f"active/dual-ip-dhcp-range/add-last/parent-{pidx}/live+config", DUAL, True, 3, 5, "<range start='192.168.235.160' end='192.168.235.170'/>", 3, pidx)
    run(f"inactive/dual-ip-dhcp-host-v6/add-last/parent-{pidx}/config", DUAL, False, 3, 4, "<host id='0:1:2:3' name='v6b' ip='2001:db8:234::11'/>", 2, pidx)
run("active/section-13/add-last/x/current", ISO, True, 3, 13, "<x/>", 0)
run("active/section-0/add-last/x/current", ISO, True, 3, 0, "<x/>", 0)
run("active/dns-txt/command-0/new/current", ISO, True, 0, 11, "<txt name='t9' value='v'/>", 0)
run("active/dns-txt/command-5/new/current", ISO, True, 5, 11, "<txt name='t9' value='v'/>", 0)
run("active/dns-txt/add-last/new/flag-4", ISO, True, 3, 11, "<txt name='t9' value='v'/>", 4)

for name in (ISO, POOL, DUAL):
    net = lookup(name)
    if net is not None:
        if net.isActive():
            net.destroy()
        if net.isPersistent():
            net.undefine()
