#!/usr/bin/env python3
"""Client tracking against the gateway (issue 20 item 2): a raw RESP3 socket client for the
default mode, OPTIN, OPTOUT, BCAST PREFIX, NOLOOP, TRACKINGINFO/GETREDIR, the errors and the
tracked-key bound (the gateway runs with tracking.max_keys 8); redis-py's RESP2 REDIRECT flow
(a second connection subscribed to __redis__:invalidate); redis-py's own client-side cache
(protocol 3, CacheConfig). Environment: QS_PORT, QS_PG_URL, QS_PSQL. Prints ALL OK last."""
import socket
import time

import redis
from redis.cache import CacheConfig

from compat_common import PORT, as_text, check, update_row


class Raw:
    """One RESP3 connection; pushes are kept apart from replies."""

    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", PORT))
        self.buffer = b""
        self.pushes = []
        self.call("HELLO", "3")

    def _line(self):
        while b"\r\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return rest.decode() if kind == b"+" else Exception(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"_":
            return None
        if kind in (b"$", b"="):
            length = int(rest)
            if length < 0:
                return None
            while len(self.buffer) < length + 2:
                self.buffer += self.sock.recv(65536)
            body, self.buffer = self.buffer[:length], self.buffer[length + 2:]
            return body.decode()
        if kind in (b"*", b"~", b">"):
            count = int(rest)
            items = None if count < 0 else [self._read() for _ in range(count)]
            return ("push", items) if kind == b">" else items
        if kind == b"%":
            count = int(rest)
            return {self._read(): self._read() for _ in range(count)}
        raise ValueError(f"unexpected {line!r}")

    def call(self, *args):
        payload = f"*{len(args)}\r\n".encode()
        for arg in args:
            data = str(arg).encode()
            payload += f"${len(data)}\r\n".encode() + data + b"\r\n"
        self.sock.sendall(payload)
        while True:
            value = self._read()
            if isinstance(value, tuple):
                self.pushes.append(value[1])
            else:
                return value

    def invalidations(self, seconds=0.5):
        """The keys of the invalidate pushes received within `seconds` (None for a null push)."""
        deadline = time.monotonic() + seconds
        self.sock.settimeout(0.05)
        while time.monotonic() < deadline:
            try:
                value = self._read()
            except (socket.timeout, BlockingIOError):
                continue
            if isinstance(value, tuple):
                self.pushes.append(value[1])
        self.sock.settimeout(None)
        keys, pushes = [], self.pushes
        self.pushes = []
        for push in pushes:
            if push[0] == "invalidate":
                keys.extend(push[1] if push[1] is not None else [None])
        return keys


def set_name(user_id, name):
    update_row(f"UPDATE users SET username = '{name}' WHERE id = {user_id}")


# Default mode: a key read is announced once when PostgreSQL changes it, then forgotten.
c = Raw()
check("tracking on", c.call("CLIENT", "TRACKING", "ON") == "OK")
check("getredir without redirect", c.call("CLIENT", "GETREDIR") == 0)
info = c.call("CLIENT", "TRACKINGINFO")
check("trackinginfo", info["flags"] == ["on"] and info["redirect"] == 0 and info["prefixes"] == [], repr(info))
check("read tracked key", "alice" in c.call("GET", "user:1"))
set_name(1, "alice-t1")
check("push after a PostgreSQL write", c.invalidations(3) == ["user:1"])
check("read fresh after the push", "alice-t1" in c.call("GET", "user:1"))
set_name(1, "alice-t2")
check("push for the second write after the second read", c.invalidations(3) == ["user:1"])
set_name(1, "alice-t3")
check("no push without a read in between", c.invalidations(0.5) == [])
c.call("MGET", "user:2", "user:3")
update_row("UPDATE users SET username = username || '-m' WHERE id IN (2, 3)")
check("MGET keys tracked", sorted(c.invalidations(3)) == ["user:2", "user:3"])
c.call("GET", "user:4")
check("operator DEL pushes", c.call("DEL", "user:4") in (0, 1) and c.invalidations(3) == ["user:4"])
check("errors as Redis words them",
      "PREFIX option requires BCAST" in str(c.call("CLIENT", "TRACKING", "ON", "PREFIX", "user:"))
      and "switch BCAST mode" in str(c.call("CLIENT", "TRACKING", "ON", "BCAST"))
      and "both OPTIN and OPTOUT" in str(c.call("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"))
      and "only valid when tracking is enabled in OPTIN" in str(c.call("CLIENT", "CACHING", "yes")))
check("tracking off", c.call("CLIENT", "TRACKING", "OFF") == "OK" and c.call("CLIENT", "GETREDIR") == -1)
check("noloop accepted", c.call("CLIENT", "TRACKING", "ON", "NOLOOP") == "OK"
      and "noloop" in c.call("CLIENT", "TRACKINGINFO")["flags"])
c.call("CLIENT", "TRACKING", "OFF")

# OPTIN: only the read right after CLIENT CACHING yes is tracked.
o = Raw()
check("optin on", o.call("CLIENT", "TRACKING", "ON", "OPTIN") == "OK")
o.call("GET", "user:5")
o.call("CLIENT", "CACHING", "yes")
o.call("GET", "user:6")
update_row("UPDATE users SET username = username || '-o' WHERE id IN (5, 6)")
check("optin tracks only after CACHING yes", o.invalidations(3) == ["user:6"])
# OPTOUT: every read but the one right after CLIENT CACHING no.
p = Raw()
check("optout on", p.call("CLIENT", "TRACKING", "ON", "OPTOUT") == "OK")
p.call("CLIENT", "CACHING", "no")
p.call("GET", "user:7")
p.call("GET", "user:8")
update_row("UPDATE users SET username = username || '-p' WHERE id IN (7, 8)")
check("optout skips the read after CACHING no", p.invalidations(3) == ["user:8"])

# BCAST: every invalidated key under the prefixes, read or not.
b = Raw()
check("bcast on", b.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:9", "PREFIX", "listing:") == "OK")
check("bcast prefixes", sorted(b.call("CLIENT", "TRACKINGINFO")["prefixes"]) == ["listing:", "user:9"])
check("overlapping prefixes refused", "overlap" in str(Raw().call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "ab")))
set_name(9, "ivan-b")
update_row("UPDATE users SET username = username || '-b' WHERE id = 1")
keys = b.invalidations(3)
check("bcast announces keys under its prefixes only", "user:9" in keys and "user:1" not in keys, repr(keys))

# REDIRECT, as redis-py drives it in RESP2: a PubSub connection receives the messages.
listener = redis.Redis(port=PORT, protocol=2, client_name="tracking-sub")
pubsub = listener.pubsub()
pubsub.subscribe("__redis__:invalidate")
confirm = pubsub.get_message(timeout=3)
check("subscribe confirmed", confirm is not None and confirm["type"] == "subscribe", repr(confirm))
lines = as_text(redis.Redis(port=PORT, protocol=2).execute_command("CLIENT", "LIST")).splitlines()
sub_id = next(int(line.split()[0][3:]) for line in lines if "name=tracking-sub" in line)
reader = redis.Redis(port=PORT, protocol=2, single_connection_client=True)
check("redirect on", reader.execute_command("CLIENT", "TRACKING", "ON", "REDIRECT", sub_id) in (True, b"OK", "OK"))
check("getredir", reader.execute_command("CLIENT", "GETREDIR") == sub_id)
check("redirect to a missing client refused", "does not exist" in str(
    Raw().call("CLIENT", "TRACKING", "ON", "REDIRECT", 999999)))
reader.get("user:2")
update_row("UPDATE users SET username = username || '-r' WHERE id = 2")
message = pubsub.get_message(timeout=3)
check("redirected message", message is not None and message["type"] == "message"
      and message["channel"] == b"__redis__:invalidate" and message["data"] == [b"user:2"], repr(message))

# The bound: with tracking.max_keys 8, reading 12 new keys forgets (and first announces) 4.
n = Raw()
n.call("CLIENT", "TRACKING", "ON")
for i in range(101, 113):
    n.call("GET", f"user:{i}")
forgotten = n.invalidations(1)
check("bound announces the keys it forgets", forgotten == [f"user:{i}" for i in range(101, 105)], repr(forgotten))
stats = redis.Redis(port=PORT).info("stats")
check("tracked keys within the bound", stats["tracking_total_keys"] == 8 and stats["tracking_keys_forgotten_for_room"] == 4,
      repr(stats))

# redis-py's own client-side cache.
cached = redis.Redis(port=PORT, protocol=3, cache_config=CacheConfig())
plain = redis.Redis(port=PORT)
first = as_text(cached.get("listing:10"))
check("redis-py cache read", "Lamp" in (first or ""), repr(first))


def processed():
    return plain.info("stats")["total_commands_processed"]


before = processed()
repeated = [as_text(cached.get("listing:10")) for _ in range(200)]
after = processed()
check("repeated reads served from redis-py's cache", repeated == [first] * 200 and after - before <= 2,
      f"{after - before} commands for 200 reads")
delays = []
for round_ in range(5):
    update_row(f"UPDATE listings SET title = 'Lamp c{round_}' WHERE id = 10")
    written = time.monotonic()
    while f"Lamp c{round_}" not in (as_text(cached.get("listing:10")) or ""):
        if time.monotonic() - written > 5:
            break
    delays.append((time.monotonic() - written) * 1000)
print(f"redis-py cache: fresh after the commit in {', '.join(f'{d:.2f}' for d in delays)} ms", flush=True)
check("redis-py reads fresh after a PostgreSQL write", max(delays) < 5000, repr(delays))
# A full flush: the null form of invalidate.
f = Raw()
f.call("CLIENT", "TRACKING", "ON")
f.call("GET", "user:1")
flushed = f.call("QUICKSELL", "FLUSHALL")
check("full flush pushes the null form", isinstance(flushed, int) and None in f.invalidations(3), repr(flushed))
print("ALL OK", flush=True)
