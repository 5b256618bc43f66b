"""What every Python compatibility script shares: checks, settings, the PostgreSQL update."""
import os
import subprocess
import sys
import time


def check(name, condition, detail=""):
    if not condition:
        print(f"FAIL {name} {detail}", flush=True)
        sys.exit(1)
    print(f"ok {name}", flush=True)


PORT = int(os.environ["QS_PORT"])
AUTH_PORT = int(os.environ["QS_AUTH_PORT"])
AUTH_PASSWORD = os.environ["QS_AUTH_PASSWORD"]
KEYS = [f"user:{i % 9 + 1}" if i % 3 else "listing:10" for i in range(100)]


def update_row(sql):
    """A write in PostgreSQL, as the API tier makes it (the gateway only reads)."""
    subprocess.run([os.environ["QS_PSQL"], os.environ["QS_PG_URL"], "-qAtc", sql], check=True)


def as_text(value):
    return value.decode() if isinstance(value, bytes) else value


def wait_until(read, expected, seconds=10):
    """Polls `read()` until its text contains `expected` (the invalidation arrives)."""
    deadline = time.monotonic() + seconds
    value = None
    while time.monotonic() < deadline:
        value = as_text(read())
        if value is not None and expected in value:
            return value
        time.sleep(0.02)
    return value
