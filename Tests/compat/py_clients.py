#!/usr/bin/env python3
"""redis-py or valkey-py (same API) against the gateway: py_clients.py redis-py|valkey-py PROTOCOL"""
import sys
from concurrent.futures import ThreadPoolExecutor

from compat_common import AUTH_PASSWORD, AUTH_PORT, KEYS, PORT, as_text, check, update_row, wait_until

library, protocol = sys.argv[1], int(sys.argv[2])
if library == "valkey-py":
    import valkey as client_module
    Client = client_module.Valkey
else:
    import redis as client_module
    Client = client_module.Redis
errors = client_module.exceptions
tag = f"{library}-{protocol}"

r = Client(host="127.0.0.1", port=PORT, protocol=protocol, socket_timeout=10)
check("connect", r.ping() is True)
check("get", "alice" in as_text(r.get("user:1")))
values = r.mget("user:1", "listing:10", "user:999999")
check("mget", "alice" in as_text(values[0]) and "Lamp" in as_text(values[1]) and values[2] is None, repr(values))
check("exists", r.exists("user:1", "user:999999") == 1)
ttl = r.ttl("user:1")
check("ttl", isinstance(ttl, int) and ttl > 0, repr(ttl))

singles = {key: r.get(key) for key in set(KEYS)}
pipe = r.pipeline(transaction=False)
for key in KEYS:
    pipe.get(key)
replies = pipe.execute()
check("pipeline of 100 GETs", replies == [singles[key] for key in KEYS])

pipe = r.pipeline()  # the library's default: MULTI … EXEC
pipe.get("user:1")
pipe.get("listing:10")
replies = pipe.execute()
check("default pipeline", len(replies) == 2 and "alice" in as_text(replies[0]) and "Lamp" in as_text(replies[1]), repr(replies))

with r.pipeline() as pipe:
    pipe.watch("user:7")
    before = pipe.get("user:7")
    pipe.multi()
    pipe.get("user:7")
    pipe.exists("user:8")
    replies = pipe.execute()
check("watch multi exec", replies == [before, 1], repr(replies))

with r.pipeline() as pipe:
    pipe.watch("user:6")
    pipe.get("user:6")
    update_row(f"UPDATE users SET username = 'frank-{tag}' WHERE id = 6")
    check("watched row read fresh", f"frank-{tag}" in (wait_until(lambda: r.get("user:6"), f"frank-{tag}") or ""))
    pipe.multi()
    pipe.get("user:6")
    try:
        pipe.execute()
        check("watch aborts after invalidation", False)
    except errors.WatchError:
        check("watch aborts after invalidation", True)

singles = {key: r.get(key) for key in set(KEYS)}  # user:6 changed above
with ThreadPoolExecutor(max_workers=20) as pool:
    results = list(pool.map(r.get, KEYS[:20]))
check("20 concurrent", results == [singles[key] for key in KEYS[:20]])

with_password = Client(host="127.0.0.1", port=PORT, protocol=protocol, username="default", password="unneeded")
check("password the gateway does not need", with_password.ping() is True)
protected = Client(host="127.0.0.1", port=AUTH_PORT, protocol=protocol, password=AUTH_PASSWORD)
check("password required", protected.ping() is True)
try:
    Client(host="127.0.0.1", port=AUTH_PORT, protocol=protocol, password="wrong", retry_on_error=[]).ping()
    check("wrong password surfaced", False)
except errors.AuthenticationError as error:
    check("wrong password surfaced", "invalid username-password pair" in str(error), str(error))

try:
    r.set("user:1", "x")
    check("write refused", False)
except errors.ResponseError as error:
    check("write refused", "read-only cache" in str(error), str(error))  # redis-py drops the READONLY code
try:
    r.execute_command("NOSUCHCOMMAND", "a")
    check("unknown command surfaced", False)
except errors.ResponseError as error:
    check("unknown command surfaced", "unknown command" in str(error), str(error))

update_row(f"UPDATE users SET username = 'erin-{tag}' WHERE id = 5")
check("row updated in PostgreSQL read fresh", f"erin-{tag}" in (wait_until(lambda: r.get("user:5"), f"erin-{tag}") or ""))
print("ALL OK", flush=True)
