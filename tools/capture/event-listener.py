#!/usr/bin/python3
"""Client used to capture golden vectors: opens URI (argv[1]) with python3-libvirt,
registers for network lifecycle events, prints every event, and closes after
SECONDS (argv[2], default 20).  KEEPALIVE (argv[3], default 2) > 0 calls
conn.setKeepAlive(KEEPALIVE, 5): the client then PINGs the server after KEEPALIVE
seconds without traffic from it.  KEEPALIVE = 0 leaves client keepalive off; the
server (keepalive_interval = 5 by default) then PINGs this client after 5 s idle
and the client answers PONG.

usage: event-listener.py URI [SECONDS [KEEPALIVE]]"""
import sys, threading, time
import libvirt

uri = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20
keepalive = int(sys.argv[3]) if len(sys.argv) > 3 else 2
libvirt.virEventRegisterDefaultImpl()  # needed for events and keepalive


def loop():
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open(uri)
if keepalive > 0:
    conn.setKeepAlive(keepalive, 5)


def on_lifecycle(conn, net, event, detail, opaque):
    print("event: network=%s event=%d detail=%d" % (net.name(), event, detail), flush=True)


cb = conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, on_lifecycle, None)
print("registered callback", cb, flush=True)
time.sleep(seconds)
conn.networkEventDeregisterAny(cb)
conn.close()
print("closed", flush=True)
