#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A connection inherited across fork() into another unit: the parent connects and makes one
# call, the child moves itself into CGROUP (a unit's cgroup) and sends Create on the same
# connection. Prints the child's reply (one JSON line). Usage: SOCKET CGROUP_DIR NAME SIZE
import json
import os
import socket
import sys


def call(s, method, params):
    s.sendall(json.dumps({"method": method, "parameters": params}).encode() + b"\0")
    buf = b""
    while not buf.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("daemon closed the connection")
        buf += chunk
    return json.loads(buf[:-1])


sock, cgroup, name, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock)
call(s, "io.shmd.Manager.Status", {})
pid = os.fork()
if pid == 0:
    with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
    print(json.dumps(call(s, "io.shmd.Manager.Create", {"name": name, "size": size})))
    sys.stdout.flush()
    os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
