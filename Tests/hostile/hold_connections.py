#!/usr/bin/env python3
"""Opens COUNT TCP connections to 127.0.0.1:PORT as fast as the server takes them, and holds them, idle.

    python3 hold_connections.py PORT COUNT WINDOW SOURCE_ADDRESS MAX_SECONDS

At most WINDOW connections are connecting, or open for less than a second without the server
having closed them, at any time (see `open_all`).

A child of HostileClientTests: one test process cannot hold 20,000 client sockets next to
everything else under a 20,000-descriptor hard limit, so several of these hold them instead,
each under its own limit. The connections come from SOURCE_ADDRESS (another loopback
address, 127.0.0.2 and up), so they use none of 127.0.0.1's ephemeral ports, which other
tests on the machine need.

Prints one JSON line once every connect has finished:
    {"opened": N, "failed": N, "seconds": S, "errors": {"errno name": N}}
then holds the connections until stdin closes (the test is done) or MAX_SECONDS pass (the
test died), and prints {"peer_closed": N} (connections the server closed meanwhile).
"""
import collections
import errno
import json
import resource
import select
import socket
import sys
import time

# Linux: bind only the address now, the port at connect (the port is unique per destination).
IP_BIND_ADDRESS_NO_PORT = 24
# A connection open this long without being closed by the server counts as accepted.
UNANSWERED_SECONDS = 1.0


def raise_descriptor_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return
    if hard != resource.RLIM_INFINITY and hard < wanted:
        sys.exit(f"hold_connections: the open-file hard limit is {hard}; {wanted} are needed")
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class Connections:
    """The connections of this child: connecting, open, or closed by the server."""

    def __init__(self, port, source):
        self.port, self.source = port, source
        self.poller = select.epoll()
        self.connecting = {}
        self.open = {}
        self.closed = set()
        self.errors = {}
        # Open connections younger than UNANSWERED_SECONDS: (fileno, opened at).
        self.young = collections.deque()

    def start_one(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        sock.bind((self.source, 0))
        sock.setblocking(False)
        code = sock.connect_ex(("127.0.0.1", self.port))
        if code not in (0, errno.EINPROGRESS):
            self.failed(sock, code)
            return
        self.connecting[sock.fileno()] = sock
        self.poller.register(sock.fileno(), select.EPOLLOUT)

    def failed(self, sock, code):
        name = errno.errorcode.get(code, str(code))
        self.errors[name] = self.errors.get(name, 0) + 1
        sock.close()

    def unanswered(self):
        """Open connections the server has neither refused nor held for long: not yet accepted."""
        now = time.monotonic()
        while self.young and now - self.young[0][1] > UNANSWERED_SECONDS:
            self.young.popleft()
        return sum(1 for fd, _ in self.young if fd not in self.closed)

    def poll(self, timeout, extra=None):
        """Notes finished connects and closes by the server; returns whether `extra` was readable."""
        extra_ready = False
        for fd, _ in self.poller.poll(timeout):
            if fd == extra:
                extra_ready = True
            elif fd in self.connecting:
                sock = self.connecting.pop(fd)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code != 0:
                    self.poller.unregister(fd)
                    self.failed(sock, code)
                    continue
                self.open[fd] = sock
                self.young.append((fd, time.monotonic()))
                self.poller.modify(fd, select.EPOLLIN | select.EPOLLRDHUP)
            else:
                self.poller.unregister(fd)
                self.closed.add(fd)
        return extra_ready


def open_all(connections, count, window):
    """Opens `count` connections, at most `window` of them connecting or unanswered at once.

    The window keeps the listener's queues from overflowing: past them the kernel answers
    with SYN cookies, and a connection whose handshake completes while the accept queue is
    full exists on this side only; the server never sees it.
    """
    started = 0
    while started < count or connections.connecting:
        while started < count and len(connections.connecting) + connections.unanswered() < window:
            connections.start_one()
            started += 1
        connections.poll(0.01)


def hold(connections, max_seconds):
    """Holds every connection until stdin closes or time is up."""
    stdin = sys.stdin.fileno()
    connections.poller.register(stdin, select.EPOLLIN | select.EPOLLHUP)
    end = time.monotonic() + max_seconds
    while time.monotonic() < end:
        if connections.poll(0.5, extra=stdin) and not sys.stdin.buffer.read1(4096):
            return


def main():
    port, count, window, source = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    max_seconds = float(sys.argv[5])
    raise_descriptor_limit(count + 64)
    connections = Connections(port, source)
    started = time.monotonic()
    open_all(connections, count, window)
    report = {"opened": len(connections.open), "failed": count - len(connections.open),
              "seconds": round(time.monotonic() - started, 3), "errors": connections.errors}
    print(json.dumps(report), flush=True)
    hold(connections, max_seconds)
    print(json.dumps({"peer_closed": len(connections.closed)}), flush=True)


if __name__ == "__main__":
    main()
