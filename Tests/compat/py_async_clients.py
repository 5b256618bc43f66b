#!/usr/bin/env python3
"""The asyncio clients against the gateway: py_async_clients.py redis-py-asyncio|coredis"""
import asyncio
import sys

from compat_common import AUTH_PASSWORD, AUTH_PORT, KEYS, PORT, as_text, check, update_row

library = sys.argv[1]


async def wait_until(read, expected, seconds=10):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    value = None
    while loop.time() < deadline:
        value = as_text(await read())
        if value is not None and expected in value:
            return value
        await asyncio.sleep(0.02)
    return value


async def everyday_calls(r, singles):
    """GET/MGET/EXISTS/TTL and 20 concurrent GETs: the same calls in both libraries."""
    check("connect", await r.ping() in (True, "PONG", b"PONG"))
    check("get", "alice" in as_text(await r.get("user:1")))
    values = list(await r.mget(["user:1", "listing:10", "user:999999"]))
    check("mget", "alice" in as_text(values[0]) and "Lamp" in as_text(values[1]) and values[2] is None, repr(values))
    check("exists", await r.exists(["user:1", "user:999999"]) == 1)
    ttl = await r.ttl("user:1")
    check("ttl", isinstance(ttl, int) and ttl > 0, repr(ttl))
    for key in set(KEYS):
        singles[key] = await r.get(key)
    results = await asyncio.gather(*(r.get(key) for key in KEYS[:20]))
    check("20 concurrent", list(results) == [singles[key] for key in KEYS[:20]])


async def redis_py_asyncio():
    import redis.asyncio as aioredis
    from redis import exceptions as errors

    class Adapter:  # redis-py takes keys as arguments, coredis as one list
        def __init__(self, client):
            self.client = client

        def __getattr__(self, name):
            return getattr(self.client, name)

        async def mget(self, keys):
            return await self.client.mget(*keys)

        async def exists(self, keys):
            return await self.client.exists(*keys)

    r = aioredis.Redis(host="127.0.0.1", port=PORT, protocol=3, socket_timeout=10)
    singles = {}
    await everyday_calls(Adapter(r), singles)

    pipe = r.pipeline(transaction=False)
    for key in KEYS:
        pipe.get(key)
    check("pipeline of 100 GETs", await pipe.execute() == [singles[key] for key in KEYS])
    pipe = r.pipeline()  # default: MULTI … EXEC
    pipe.get("user:1").get("listing:10")
    replies = await pipe.execute()
    check("default pipeline", "alice" in as_text(replies[0]) and "Lamp" in as_text(replies[1]), repr(replies))

    async with r.pipeline() as pipe:
        await pipe.watch("user:7")
        before = await pipe.get("user:7")
        pipe.multi()
        pipe.get("user:7")
        check("watch multi exec", await pipe.execute() == [before])
    async with r.pipeline() as pipe:
        await pipe.watch("user:6")
        update_row("UPDATE users SET username = 'frank-asyncio' WHERE id = 6")
        check("watched row read fresh", "frank-asyncio" in (await wait_until(lambda: r.get("user:6"), "frank-asyncio") or ""))
        pipe.multi()
        pipe.get("user:6")
        try:
            await pipe.execute()
            check("watch aborts after invalidation", False)
        except errors.WatchError:
            check("watch aborts after invalidation", True)

    with_password = aioredis.Redis(host="127.0.0.1", port=PORT, protocol=3, username="default", password="unneeded")
    check("password the gateway does not need", await with_password.ping() is True)
    await with_password.aclose()
    protected = aioredis.Redis(host="127.0.0.1", port=AUTH_PORT, password=AUTH_PASSWORD)
    check("password required", await protected.ping() is True)
    await protected.aclose()
    try:
        await aioredis.Redis(host="127.0.0.1", port=AUTH_PORT, password="wrong", retry_on_error=[]).ping()
        check("wrong password surfaced", False)
    except errors.AuthenticationError as error:
        check("wrong password surfaced", "invalid username-password pair" in str(error), str(error))
    try:
        await r.set("user:1", "x")
        check("write refused", False)
    except errors.ResponseError as error:
        check("write refused", "read-only cache" in str(error), str(error))  # redis-py drops the READONLY code
    try:
        await r.execute_command("NOSUCHCOMMAND", "a")
        check("unknown command surfaced", False)
    except errors.ResponseError as error:
        check("unknown command surfaced", "unknown command" in str(error), str(error))
    update_row("UPDATE users SET username = 'erin-asyncio' WHERE id = 5")
    check("row updated in PostgreSQL read fresh", "erin-asyncio" in (await wait_until(lambda: r.get("user:5"), "erin-asyncio") or ""))
    await r.aclose()


async def coredis_client():
    import coredis
    from coredis import exceptions as errors

    singles = {}
    # noevict: coredis sends CLIENT NO-EVICT on every connection.
    async with coredis.Redis(host="127.0.0.1", port=PORT, noevict=True, stream_timeout=10) as r:
        await everyday_calls(r, singles)

        async with r.pipeline(transaction=False) as pipe:
            pending = [pipe.get(key) for key in KEYS]
        check("pipeline of 100 GETs", [await p for p in pending] == [singles[key] for key in KEYS])
        async with r.pipeline() as pipe:  # default: MULTI … EXEC
            first, second = pipe.get("user:1"), pipe.get("listing:10")
        check("default pipeline", "alice" in as_text(await first) and "Lamp" in as_text(await second))

        before = await r.get("user:7")
        async with r.pipeline(transaction=True) as pipe:
            async with pipe.watch("user:7"):
                watched = pipe.get("user:7")
        check("watch multi exec", await watched == before)
        try:
            async with r.pipeline(transaction=True) as pipe:
                async with pipe.watch("user:6"):
                    update_row("UPDATE users SET username = 'frank-coredis' WHERE id = 6")
                    fresh = await wait_until(lambda: r.get("user:6"), "frank-coredis")
                    check("watched row read fresh", "frank-coredis" in (fresh or ""))
                    pipe.get("user:6")
            check("watch aborts after invalidation", False)
        except errors.WatchError:
            check("watch aborts after invalidation", True)

        try:
            await r.set("user:1", "x")
            check("write refused", False)
        except errors.ResponseError as error:
            check("write refused", "read-only cache" in str(error), str(error))
        try:
            await r.get("nosuchfamily:1")
            check("error surfaced", False)
        except errors.ResponseError as error:
            check("error surfaced", "nosuchfamily" in str(error), str(error))
        update_row("UPDATE users SET username = 'erin-coredis' WHERE id = 5")
        check("row updated in PostgreSQL read fresh", "erin-coredis" in (await wait_until(lambda: r.get("user:5"), "erin-coredis") or ""))

    async with coredis.Redis(host="127.0.0.1", port=PORT, username="default", password="unneeded") as with_password:
        check("password the gateway does not need", await with_password.ping() in (True, "PONG", b"PONG"))
    async with coredis.Redis(host="127.0.0.1", port=AUTH_PORT, password=AUTH_PASSWORD) as protected:
        check("password required", await protected.ping() in (True, "PONG", b"PONG"))
    try:
        async with coredis.Redis(host="127.0.0.1", port=AUTH_PORT, password="wrong") as wrong:
            await wrong.ping()
        check("wrong password surfaced", False)
    except Exception as error:  # coredis raises AuthenticationError, possibly inside an exception group
        text = repr(error) + str(getattr(error, "exceptions", ""))
        check("wrong password surfaced", "invalid username-password pair" in text, text)


asyncio.run(redis_py_asyncio() if library == "redis-py-asyncio" else coredis_client())
print("ALL OK", flush=True)
