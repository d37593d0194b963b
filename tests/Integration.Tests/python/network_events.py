"""Network events as python3-libvirt's default event loop delivers them.

usage: network_events.py URI PREFIX SUBNET
Networks PREFIX-a and PREFIX-b are defined, started, stopped, undefined; a lifecycle callback for
all networks ("all"), one for PREFIX-b only ("one", deregistered before the last steps) and, when
the bindings know it, a metadata-change callback ("meta") print what they receive, names without
the prefix. Lines: "<callback> <network> <event> <detail>", in the order received per callback.
"""
import sys
import threading
import time
import libvirt

uri, prefix, subnet = sys.argv[1], sys.argv[2], int(sys.argv[3])
libvirt.registerErrorHandler(lambda *a: None, None)
libvirt.virEventRegisterDefaultImpl()


def run_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=run_loop, daemon=True).start()
conn = libvirt.open(uri)
received = []
lock = threading.Lock()
LIFECYCLE = {libvirt.VIR_NETWORK_EVENT_DEFINED: "Defined", libvirt.VIR_NETWORK_EVENT_UNDEFINED: "Undefined",
             libvirt.VIR_NETWORK_EVENT_STARTED: "Started", libvirt.VIR_NETWORK_EVENT_STOPPED: "Stopped"}


def short(net):
    return net.name()[len(prefix) + 1:] if net.name().startswith(prefix + "-") else "OTHER:" + net.name()


def on_lifecycle(_conn, net, event, detail, tag):
    with lock:
        received.append(f"{tag} {short(net)} {LIFECYCLE.get(event, event)} {detail}")


def on_metadata(_conn, net, mtype, nsuri, tag):
    with lock:
        received.append(f"{tag} {short(net)} metadata-change {mtype} {nsuri}")


def xml(letter, sub):
    return (f"<network><name>{prefix}-{letter}</name><bridge name='vde{sub}{letter}'/>"
            f"<ip address='192.168.{sub}.1' netmask='255.255.255.0'/></network>")


net_b = conn.networkDefineXML(xml("b", subnet + 1))
cb_all = conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, on_lifecycle, "all")
cb_one = conn.networkEventRegisterAny(net_b, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, on_lifecycle, "one")
meta_id = getattr(libvirt, "VIR_NETWORK_EVENT_ID_METADATA_CHANGE", None)
has_metadata = meta_id is not None and hasattr(libvirt.virNetwork, "setMetadata")
if has_metadata:
    conn.networkEventRegisterAny(None, meta_id, on_metadata, "meta")
else:
    # python3-libvirt 9.0 (Debian 12) predates network metadata: its client refuses the event ID itself
    try:
        conn.networkEventRegisterAny(None, 1, on_metadata, "meta")
        print("meta registered")
    except libvirt.libvirtError as e:
        print("meta unsupported by these bindings:", e)

net_a = conn.networkDefineXML(xml("a", subnet))
net_a.create()
net_b.create()
if has_metadata:
    net_a.setMetadata(libvirt.VIR_NETWORK_METADATA_TITLE, "A title", None, None, libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG)
    net_b.setMetadata(libvirt.VIR_NETWORK_METADATA_DESCRIPTION, "live words", None, None, libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE)
    net_a.setMetadata(libvirt.VIR_NETWORK_METADATA_ELEMENT, "<x/>", "k", "http://example.org/x", 0)
net_a.destroy()
net_a.undefine()
net_b.destroy()
net_b.undefine()
time.sleep(0.5)  # "one" must have received its last event before it goes
conn.networkEventDeregisterAny(cb_one)
net_b = conn.networkCreateXML(xml("b", subnet + 1))
net_b.destroy()

# wait until nothing new arrives for a second (at most 15 s)
deadline, last, seen = time.time() + 15, time.time(), 0
while time.time() < deadline and time.time() - last < 1.0:
    time.sleep(0.1)
    with lock:
        if len(received) != seen:
            seen, last = len(received), time.time()
conn.networkEventDeregisterAny(cb_all)
for line in received:
    print(line)
conn.close()
