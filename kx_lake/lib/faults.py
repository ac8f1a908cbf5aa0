"""A test hook: make this process SIGKILL itself at a named point of a sync, to prove crash safety
with a real process death rather than an exception a `finally` could still clean up after.

Only the fault-injection tests set `KX_LAKE_KILL_AT=<point>[:<n>]`: the process kills itself the
n-th time (default 1) it reaches `<point>`. The variable is read at each call, never at import, so a
test can set it for one subprocess; unset (always, outside those tests) a call is one dict lookup.
Points, in the order a sync reaches them:

  extract_batch    a batch of documents was read and spooled (extraction under way)
  leaf_written     a leaf's Parquet file was written (locally: a complete temp file, not yet renamed)
  file_published   a file became visible under its final name (between two files of one date)
  before_state     every file of the collection is published, its state not yet written
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

VARIABLE = "KX_LAKE_KILL_AT"
POINTS = frozenset({"extract_batch", "leaf_written", "file_published", "before_state"})
_hits: Counter[str] = Counter()
_lock = threading.Lock()


def reached(point: str) -> None:
    """Kill this process with SIGKILL if `KX_LAKE_KILL_AT` names `point` and this is its n-th visit."""
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name not in POINTS:  # a misspelt point would silently never fire
        raise ValueError(f"{VARIABLE}={wanted!r}: unknown point {name!r} (known: {', '.join(sorted(POINTS))})")
    if name != point:
        return
    with _lock:
        _hits[point] += 1
        due = _hits[point] == int(nth or 1)
    if due:
        os.kill(os.getpid(), signal.SIGKILL)
