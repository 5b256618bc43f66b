#!/usr/bin/env python3
"""Holds N idle client connections to a Redis-protocol endpoint and reports a process's
resident memory while they are open.

Each connection sends one PING and waits for +PONG first, so the server has fully set it
up (accepted, registered, read a request, answered). After all are open it waits a
settling time, reads VmRSS of --pid (the server) and checks a sample of the connections
still answer, then prints one JSON line and closes them.

  idle_clients.py --port P --pid PID --count 5000 [--settle 3]
"""
import argparse
import json
import resource
import socket
import sys
import time


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def ping(sock: socket.socket, address: str) -> None:
    sock.sendall(b"*1\r\n$4\r\nPING\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        chunk = sock.recv(64)
        if not chunk:
            raise RuntimeError(f"{address} closed a connection before answering PING")
        reply += chunk
    if reply != b"+PONG\r\n":
        raise RuntimeError(f"{address} answered PING with {reply!r}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--settle", type=float, default=3.0)
    args = parser.parse_args()
    address = f"{args.host}:{args.port}"

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < args.count + 64:
        print(f"idle_clients: error: the descriptor limit {hard} is below {args.count} connections", file=sys.stderr)
        return 1
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    before = rss_kib(args.pid)
    started = time.monotonic()
    sockets = []
    try:
        for _ in range(args.count):
            sock = socket.create_connection((args.host, args.port), timeout=10)
            sockets.append(sock)
            ping(sock, address)
        opened = time.monotonic() - started
        time.sleep(args.settle)
        with_clients = rss_kib(args.pid)
        step = max(1, len(sockets) // 50)
        for sock in sockets[::step]:
            ping(sock, address)
    except (OSError, RuntimeError) as error:
        print(f"idle_clients: error: {address} after {len(sockets)} connections: {error}", file=sys.stderr)
        return 1
    finally:
        for sock in sockets:
            sock.close()
    print(json.dumps({"connections": len(sockets), "rss_kib_before": before, "rss_kib": with_clients,
                      "open_seconds": round(opened, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
