#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Readiness protocol: shmd's sd_notify messages on a NOTIFY_SOCKET this test owns. READY=1
# and STATUS= must come together, only once the socket accepts connections, and STOPPING=1
# must follow SIGTERM. Usage: notify.py DIR [socket-activate]; prints TAP.
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

test_dir = sys.argv[1]
activated = len(sys.argv) > 2 and sys.argv[2] == "socket-activate"
shmd = os.environ["SHMD_BIN"]
n = 0
failed = False


def ok(cond, desc):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (n, desc), flush=True)
    failed |= not cond


def receive(sock, timeout):
    """One datagram and the sender's pid, or (None, None) after timeout seconds."""
    if not select.select([sock], [], [], timeout)[0]:
        return None, None
    data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    return data.decode(), pid


def accepts(path):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.connect(path)
        return True
    except OSError:
        return False
    finally:
        c.close()


notify_path = os.path.join(test_dir, "notify")
sock_path = os.path.join(test_dir, "run", "io.shmd.Manager")
ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ns.bind(notify_path)
ns.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)

env = dict(os.environ, NOTIFY_SOCKET=notify_path)
if activated:
    # systemd-socket-activate passes on only TERM, PATH, USER and HOME (and -E), and
    # execs shmd on the first connection: make one at once.
    argv = ["systemd-socket-activate", "-E", "NOTIFY_SOCKET=" + notify_path,
            "-l", sock_path, shmd]
    os.makedirs(os.path.dirname(sock_path))
else:
    argv = [shmd, "--socket", sock_path]
log = open(os.path.join(test_dir, "log"), "w")
proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
print("1..7", flush=True)

if activated:
    deadline = time.monotonic() + 30
    while not os.path.exists(sock_path) and time.monotonic() < deadline:
        time.sleep(0.02)
    poke = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    poke.connect(sock_path)

msg, pid = receive(ns, 30)
# The socket must accept a connection the moment readiness is announced.
serving = msg is not None and accepts(sock_path)
ok(msg is not None and "READY=1" in msg.split("\n"), "READY=1 arrives: %r" % msg)
ok(pid == proc.pid, "sent by the daemon's own pid (%s, started %d)" % (pid, proc.pid))
ok(serving, "the socket accepts connections once READY=1 is sent")
status = [l for l in (msg or "").split("\n") if l.startswith("STATUS=")]
want = "socket-activated" if activated else sock_path
ok(len(status) == 1 and want in status[0], "STATUS= names what is served: %r" % status)

more, _ = receive(ns, 0.3)
ok(more is None, "nothing else is sent while serving (%r)" % more)

proc.send_signal(signal.SIGTERM)
msg, _ = receive(ns, 30)
ok(msg is not None and "STOPPING=1" in msg.split("\n"), "STOPPING=1 after SIGTERM: %r" % msg)
try:
    rc = proc.wait(30)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = proc.wait()
ok(rc == 0, "exit status 0 (%d)" % rc)

if activated:
    poke.close()
if failed:
    log.close()
    for line in open(os.path.join(test_dir, "log")):
        print("# " + line.rstrip())
sys.exit(1 if failed else 0)
