"""Calls that reach the daemon with flags or arguments it must refuse; prints one line per call.

usage: bad_flags.py URI NAME UUID SUBNET
"""
import sys
import libvirt

uri, name, uuid, subnet = sys.argv[1:5]
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(uri)
xml = (f"<network><name>{name}</name><uuid>{uuid}</uuid><bridge name='vdf{subnet}'/>"
       f"<mac address='52:54:00:5e:00:01'/><ip address='192.168.{subnet}.1' netmask='255.255.255.0'/></network>")
net = conn.networkDefineXML(xml)


def call(label, f):
    try:
        r = f()
        print(label, "ok", r.name() if hasattr(r, "name") else r)
    except libvirt.libvirtError as e:
        print(label, e.get_error_code(), e.get_error_domain(), e)


host = f"<host mac='52:54:00:00:00:06' ip='192.168.{subnet}.6'/>"
call("listAllNetworks", lambda: len([n for n in conn.listAllNetworks(1 << 12) if n.name() == name]))
call("XMLDesc", lambda: len(net.XMLDesc(1 << 4)))
call("networkDefineXMLFlags", lambda: conn.networkDefineXMLFlags(xml, 1 << 3))
call("networkDefineXMLFlags(validate)", lambda: conn.networkDefineXMLFlags(xml, 1))
call("networkCreateXMLFlags", lambda: conn.networkCreateXMLFlags(xml, 1 << 3))
call("update(flags)", lambda: net.update(1, 4, -1, host, 1 << 5))
call("update(command)", lambda: net.update(9, 4, -1, host, 0))
call("update(section)", lambda: net.update(1, 99, -1, host, 0))
call("update(index)", lambda: net.update(3, 4, 5, host, 0))
call("DHCPLeases", lambda: net.DHCPLeases(None, 1))
call("destroy", lambda: net.destroy())
call("networkDefineXML(no name)", lambda: conn.networkDefineXML("<network/>"))
call("networkDefineXML(slash)", lambda: conn.networkDefineXML("<network><name>a/b</name></network>"))
call("undefine", lambda: net.undefine())
call("undefine", lambda: net.undefine())
call("isActive", lambda: net.isActive())
