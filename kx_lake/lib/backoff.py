"""Poll-and-back-off waits on tenacity, with the clock and `sleep` injected.

Athena queries, QuickSight dashboard versions and SPICE ingestions are asynchronous (start, then
poll), and a DuckDB catalog file is locked while another run writes it. Every such wait here has
the same shape: geometric back-off from `initial_s` by `factor` up to `max_s`, and giving up before
a sleep would pass `timeout_s`. tenacity provides the loop; the deadline is measured on the injected
clock (tenacity's own start time is always `time.monotonic`), so tests run on a fake clock and
`sleep` and never wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    initial_s: float
    max_s: float
    factor: float
    timeout_s: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def _retrying(self, retry: tenacity.retry_base, **kw) -> tenacity.Retrying:  # noqa: ANN003
        deadline = self.clock() + self.timeout_s

        def past_deadline(state: tenacity.RetryCallState) -> bool:  # runs after the next delay is chosen
            return self.clock() + state.upcoming_sleep > deadline

        return tenacity.Retrying(
            retry=retry, stop=past_deadline, sleep=self.sleep,
            wait=tenacity.wait_exponential(multiplier=self.initial_s, exp_base=self.factor, max=self.max_s), **kw,
        )

    def poll(self, check: Callable[[], T | None], on_timeout: Callable[[], T]) -> T:
        """Call `check` until it returns something other than None (an exception ends the wait at
        once); when the next sleep would pass the deadline, `on_timeout` raises or gives the result."""
        def timed_out(_: tenacity.RetryCallState) -> T:
            return on_timeout()

        retrying = self._retrying(tenacity.retry_if_result(lambda r: r is None), retry_error_callback=timed_out)
        return retrying(check)

    def retry(self, call: Callable[[], T], while_: Callable[[BaseException], bool]) -> T:
        """`call()`, again after each exception `while_` accepts, until it succeeds or the deadline
        passes (then that last exception is raised)."""
        return self._retrying(tenacity.retry_if_exception(while_), reraise=True)(call)
