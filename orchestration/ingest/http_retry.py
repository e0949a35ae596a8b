"""The one retry policy of every HTTP client (SSB, KLASS): tenacity, with a total deadline on top.

- Retried: connection errors, timeouts, and the statuses in `RETRY_STATUSES`. Any other answer is
  returned to the client, which decides (a 4xx is a bug in the request: no retry).
- Waits: `Retry-After` when a 429 or 503 carries one (seconds or an HTTP date), else exponential
  backoff (`backoff`, doubling, capped at `max_backoff`), with jitter when asked.
- Stops after `max_retries` retries, or before a wait that would end past the source's deadline
  (`settings.http_deadline_seconds`: short for an interactive run, longer for a scheduled one), so a
  live run that cannot reach SSB says so within minutes instead of after a quarter of an hour.
- Says what it does while waiting: «SSB answered 503; retry 2 of 5 in 8 s».

All waits go through the injectable `sleep`, so tests wait for nothing.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
import tenacity

from orchestration import settings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRIED_ERRORS = (requests.ConnectionError, requests.Timeout)


def retry_after_seconds(value: str | None, now: Callable[[], dt.datetime] | None = None) -> float | None:
    """`Retry-After` as seconds to wait: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    current = now() if now else dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - current).total_seconds())


class GaveUp(Exception):
    """Retries or the deadline ran out; `last` says what the last attempt got."""

    def __init__(self, source: str, attempts: int, last: str, reason: str) -> None:
        self.source, self.attempts, self.last, self.reason = source, attempts, last, reason
        super().__init__(f"{source}: gave up after {attempts} attempts ({reason}); last: {last}")


@dataclass
class RetryPolicy:
    source: str                       # «SSB», «KLASS»: how progress lines name the service
    max_retries: int = 5
    backoff: float = 1.0              # the first wait; doubles with each retry
    max_backoff: float = 120.0
    deadline: float | None = None     # seconds for all attempts and waits of one call; None: no limit
    jitter: bool = False              # up to half the wait added at random (many clients, one server)
    sleep: Callable[[float], None] = time.sleep
    progress: Callable[[str], None] | None = None  # default: a warning in the log

    def call(self, send: Callable[[], requests.Response]) -> requests.Response:
        """The first answer that is not a retryable status; raises GaveUp when retries or deadline run out."""
        stop = tenacity.stop_after_attempt(self.max_retries + 1)
        if self.deadline is not None:
            stop = stop | tenacity.stop_before_delay(self.deadline)
        retrying = tenacity.Retrying(
            sleep=self.sleep,
            stop=stop,
            wait=self._wait,
            retry=(tenacity.retry_if_exception_type(RETRIED_ERRORS)
                   | tenacity.retry_if_result(lambda r: r.status_code in RETRY_STATUSES)),
            before_sleep=self._say,
            retry_error_callback=self._give_up,
        )
        return retrying(send)

    # -- tenacity hooks ------------------------------------------------------------------------

    def _wait(self, state: tenacity.RetryCallState) -> float:
        response = _response(state)
        if response is not None and response.status_code in RETRY_AFTER_STATUSES:
            after = retry_after_seconds(response.headers.get("Retry-After"))
            if after is not None:
                return after
        delay = min(self.backoff * 2 ** (state.attempt_number - 1), self.max_backoff)
        return delay + (random.uniform(0, delay / 2) if self.jitter else 0.0)

    def _say(self, state: tenacity.RetryCallState) -> None:
        wait = state.upcoming_sleep
        message = (f"{self.source} {_what(state)}; retry {state.attempt_number} of {self.max_retries} "
                   f"in {wait:.0f} s" if wait >= 1 else
                   f"{self.source} {_what(state)}; retry {state.attempt_number} of {self.max_retries} "
                   f"in {wait:.1f} s")
        (self.progress or settings.http_progress() or log.warning)(message)

    def _give_up(self, state: tenacity.RetryCallState):
        attempts = state.attempt_number
        if attempts >= self.max_retries + 1:
            reason = f"{self.max_retries} retries"
        else:
            reason = (f"the next wait would pass the {self.deadline:.0f} s deadline for {self.source}; "
                      "set BOLIGSOSIAL_HTTP_DEADLINE to wait longer")
        response = _response(state)
        last = f"HTTP {response.status_code}" if response is not None else _what(state).removeprefix("did not answer ")
        raise GaveUp(self.source, attempts, last, reason)


def _response(state: tenacity.RetryCallState) -> requests.Response | None:
    if state.outcome is None or state.outcome.failed:
        return None
    return state.outcome.result()


def _what(state: tenacity.RetryCallState) -> str:
    if state.outcome is not None and state.outcome.failed:
        err = state.outcome.exception()
        return f"did not answer ({type(err).__name__}: {err})"
    response = _response(state)
    return f"answered {response.status_code}" if response is not None else "did not answer"
