#!/usr/bin/env python3
"""Runs one client library's compatibility script through a logging proxy.

    python3 run_client.py LIBRARY

Environment: QS_GATEWAY_PORT (gateway without a password, with PostgreSQL behind it),
QS_AUTH_PORT (gateway whose default user has the password in QS_AUTH_PASSWORD), QS_PG_URL and
QS_PSQL (to update a row). The library's script talks to the proxy; every connection's
commands before its first data command (its connect handshake) are printed with their
replies, and any handshake command answered with an error fails the run: every command a
library sends on connect must be answered. Prints `ALL OK` last when everything passed."""
import os
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))

# library -> command line (the script's path is appended)
LIBRARIES = {
    "redis-py-resp2": ["python3", "py_clients.py", "redis-py", "2"],
    "redis-py-resp3": ["python3", "py_clients.py", "redis-py", "3"],
    "redis-py-asyncio": ["python3", "py_async_clients.py", "redis-py-asyncio"],
    "valkey-py": ["python3", "py_clients.py", "valkey-py", "2"],
    "coredis": ["python3", "py_async_clients.py", "coredis"],
    "node-redis": ["node", "node_redis_compat.js"],
    "phpredis": ["php", "phpredis_compat.php"],
    "redis-rb": ["ruby", "redis_rb_compat.rb"],
}

# The first of these on a connection ends its handshake.
DATA_COMMANDS = {"GET", "MGET", "EXISTS", "TTL", "PTTL", "STRLEN", "TYPE", "MULTI", "WATCH", "UNWATCH",
                 "EXEC", "DISCARD", "SET", "DEL", "NOSUCHCOMMAND"}


class Incomplete(Exception):
    pass


def parse(buffer, offset):
    """One RESP value at offset: (summary, next offset). Raises Incomplete."""
    end = buffer.find(b"\r\n", offset)
    if end < 0:
        raise Incomplete()
    kind = buffer[offset:offset + 1]
    line = buffer[offset + 1:end].decode("utf-8", "replace")
    after = end + 2
    if kind in (b"+", b"-", b":", b",", b"#", b"(", b"_"):
        return kind.decode() + line, after
    if kind in (b"$", b"=", b"!"):
        length = int(line)
        if length < 0:
            return "$-1", after
        if len(buffer) < after + length + 2:
            raise Incomplete()
        body = buffer[after:after + length].decode("utf-8", "replace")
        return ("-" + body) if kind == b"!" else ("$" + body[:60]), after + length + 2
    if kind in (b"*", b"%", b"~", b">", b"|"):
        count = int(line)
        if count < 0:
            return "*-1", after
        elements = count * 2 if kind in (b"%", b"|") else count
        parts = []
        for _ in range(elements):
            part, after = parse(buffer, after)
            parts.append(part)
        if kind == b"|":  # an attribute precedes the actual value
            value, after = parse(buffer, after)
            return value, after
        return kind.decode() + str(count) + ("[" + " ".join(parts[:8]) + "]"), after
    # an inline command (client side)
    return "inline " + buffer[offset:end].decode("utf-8", "replace"), after


def parse_command(buffer, offset):
    value, after = parse(buffer, offset)
    if value.startswith("inline "):
        return value[len("inline "):].split(), after
    words = value[value.find("[") + 1:-1].split(" ") if "[" in value else []
    return [w[1:] if w.startswith("$") else w for w in words], after


class Connection:
    def __init__(self, number, log, lock):
        self.number = number
        self.commands = []
        self.replies = []
        self.log = log
        self.lock = lock

    def record(self):
        with self.lock:
            self.log.append(self)


def pump(source, destination, buffer_holder, on_data):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            destination.sendall(data)
            buffer_holder[0] += data
            try:
                on_data()
            except (ValueError, IndexError):
                buffer_holder[0] = b""  # the log stops for this direction; forwarding goes on
                on_data = lambda: None
    except OSError:
        pass
    finally:
        for sock in (destination, source):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listener, upstream_port, log, lock):
    number = 0
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        number += 1
        server = socket.create_connection(("127.0.0.1", upstream_port))
        connection = Connection(number, log, lock)
        connection.record()
        requests, responses = [b""], [b""]
        offsets = [0, 0]
        full_commands = []  # bounded: only the first 64 commands of a connection are kept

        def on_request():
            while len(connection.commands) < 64:
                try:
                    words, after = parse_command(requests[0], offsets[0])
                except Incomplete:
                    return
                offsets[0] = after
                connection.commands.append(words)

        def on_response():
            while len(connection.replies) < 64:
                try:
                    value, after = parse(responses[0], offsets[1])
                except Incomplete:
                    return
                offsets[1] = after
                if value.startswith(">"):
                    continue  # a push message answers no command
                connection.replies.append(value)

        threading.Thread(target=pump, args=(client, server, requests, on_request), daemon=True).start()
        threading.Thread(target=pump, args=(server, client, responses, on_response), daemon=True).start()


def handshake(connection):
    pairs = []
    for index, words in enumerate(connection.commands):
        if words and words[0].upper() in DATA_COMMANDS:
            break
        reply = connection.replies[index] if index < len(connection.replies) else "(no reply)"
        pairs.append((words, reply))
    return pairs


def describe(words):
    # A password is never printed.
    shown = [w for w in words]
    upper = [w.upper() for w in words]
    if upper and upper[0] == "AUTH":
        shown = shown[:1] + ["<user>", "<password>"][-(len(words) - 1):]
    if upper and upper[0] == "HELLO" and "AUTH" in upper:
        at = upper.index("AUTH")
        shown = shown[:at + 1] + ["<user>", "<password>"] + shown[at + 3:]
    if len(upper) >= 3 and upper[:2] == ["CLIENT", "SETINFO"]:
        shown = shown[:3] + ["<value>"]
    return " ".join(shown)


def main():
    library = sys.argv[1]
    if library not in LIBRARIES:
        print(f"FAIL unknown library {library}")
        sys.exit(2)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    log, lock = [], threading.Lock()
    threading.Thread(target=serve, args=(listener, int(os.environ["QS_GATEWAY_PORT"]), log, lock), daemon=True).start()

    command = LIBRARIES[library]
    environment = dict(os.environ, QS_PORT=str(listener.getsockname()[1]),
                       NODE_PATH="/usr/share/nodejs:/usr/lib/nodejs", PYTHONUNBUFFERED="1")
    result = subprocess.run(command[:1] + [os.path.join(HERE, command[1])] + command[2:], env=environment,
                            capture_output=True, text=True, timeout=120)
    sys.stdout.write(result.stdout)
    sys.stdout.write(result.stderr)
    listener.close()

    seen = {}
    failures = []
    with lock:
        connections = list(log)
    for connection in connections:
        for words, reply in handshake(connection):
            name = describe(words)
            seen.setdefault(name, reply)
            # Refused. (A reply the log did not see is no failure: an unanswered command
            # leaves the library waiting, and its script fails on its own.)
            if reply.startswith("-"):
                failures.append(f"{name} -> {reply}")
    print(f"connections {len(connections)}")
    for name, reply in sorted(seen.items()):
        print(f"handshake {name} -> {reply[:80]}")
    if result.returncode != 0 or "ALL OK" not in result.stdout:
        print(f"FAIL {library} script exited {result.returncode}")
        sys.exit(1)
    if failures:
        print("FAIL handshake commands refused: " + "; ".join(sorted(set(failures))))
        sys.exit(1)
    print("ALL OK")


if __name__ == "__main__":
    main()
