#!/usr/bin/env python3
"""redis-py against the QuickSell gateway: python3 redis_py_compat.py PORT PROTOCOL

Prints one `ok <check>` line per passed check and `ALL OK` at the end; exits 1 with a
message on the first failure."""
import sys

import redis


def check(name, condition, detail=""):
    if not condition:
        print(f"FAIL {name} {detail}", flush=True)
        sys.exit(1)
    print(f"ok {name}", flush=True)


def main():
    port = int(sys.argv[1])
    protocol = int(sys.argv[2])
    r = redis.Redis(host="127.0.0.1", port=port, protocol=protocol, socket_timeout=10)

    check("ping", r.ping() is True)
    check("echo", r.echo("héllo") == "héllo".encode())
    check("client_setname", r.client_setname("py-client") is True)
    name = r.client_getname()
    check("client_getname", name in ("py-client", b"py-client"), repr(name))
    client_id = r.client_id()
    check("client_id", isinstance(client_id, int) and client_id > 0, repr(client_id))

    hello = r.execute_command("HELLO", protocol)
    if isinstance(hello, list):  # RESP2: a flat list of key, value
        hello = dict(zip(hello[0::2], hello[1::2]))
    check("hello", hello.get(b"proto") == protocol and hello.get(b"server") == b"redis", repr(hello))
    check("hello id", hello.get(b"id") == client_id, repr(hello))

    info = r.info()
    check("info", "redis_version" in info and "connected_clients" in info, repr(sorted(info)))
    stats = r.info("stats")
    check("info stats", stats.get("total_commands_processed", 0) > 0, repr(stats))

    seconds, micros = r.time()
    check("time", seconds > 1_600_000_000 and 0 <= micros < 1_000_000, repr((seconds, micros)))

    me = r.client_info()
    check("client_info lib-name", me.get("lib-name") == "redis-py", repr(me))
    check("client_info resp", str(me.get("resp")) == str(protocol), repr(me))
    listed = [c for c in r.client_list() if str(c.get("id")) == str(client_id)]
    check("client_list", len(listed) == 1 and listed[0].get("name") == "py-client", repr(listed))

    pipe = r.pipeline(transaction=False)
    expected = []
    for index in range(1000):
        if index % 4 == 0:
            pipe.ping()
            expected.append(True)
        else:
            payload = f"payload-{index}-" + "x" * (index % 50)
            pipe.echo(payload)
            expected.append(payload.encode())
    replies = pipe.execute()
    check("pipeline length", len(replies) == 1000, str(len(replies)))
    mismatches = [i for i, (a, b) in enumerate(zip(replies, expected)) if a != b]
    check("pipeline order", not mismatches, f"first mismatch at {mismatches[:1]}")

    try:
        r.execute_command("NOSUCHCOMMAND", "a")
        check("unknown command raises", False)
    except redis.ResponseError as error:
        check("unknown command raises", str(error).startswith("unknown command 'NOSUCHCOMMAND'"), str(error))

    r.close()
    print("ALL OK", flush=True)


if __name__ == "__main__":
    main()
