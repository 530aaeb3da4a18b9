"""What is worth trying again, and how long to wait: one policy for every call to Google.

Generation (reelscope/generation/runner.py) and embedding jobs (reelscope/embeddings/jobs.py)
both retry a call that failed for a reason that may pass: quota (429), a request timeout (408),
a server error (5xx), a connection that dropped or never opened, a timeout on our side. Any
other failure (a 400, a 403, a bug) gives the same answer on every try, so it is shown at once.

Each SDK says it differently: google-genai raises `APIError` with `code`, aiplatform raises
google.api_core's `GoogleAPICallError` with `code`, and both let their transport's errors
through (httpx for google-genai, requests for aiplatform's REST transport).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx
import requests

RETRYABLE_STATUSES = frozenset({408, 429})  # and every 5xx
_TRANSIENT = (
    httpx.TransportError,  # connect/read/write errors, timeouts, a stream cut mid-way
    requests.ConnectionError,
    requests.Timeout,
    ConnectionError,
    TimeoutError,
)


def retryable(exc: BaseException) -> bool:
    """Whether another try may succeed: 408, 429, 5xx, transport errors and timeouts."""
    status = http_status(exc)
    if status is not None:
        return status in RETRYABLE_STATUSES or 500 <= status < 600
    return isinstance(exc, _TRANSIENT)


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an SDK error carries (`code` on google-genai's and api_core's errors)."""
    code = getattr(exc, "code", None)
    return int(code) if isinstance(code, int) and 100 <= code < 600 else None


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: `attempts` tries in all, the first one included.

    Jitter spreads the retries of calls that failed together (an embedding job's threads, side
    by side columns hitting the same quota) so that they do not all come back at once.
    """

    attempts: int = 4
    initial_delay_s: float = 1.0
    multiplier: float = 2.0
    max_delay_s: float = 20.0
    jitter: float = 0.2  # ± this share of the delay

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (0 for the first retry)."""
        base = min(self.initial_delay_s * self.multiplier**retry, self.max_delay_s)
        return base * (1 + random.uniform(-self.jitter, self.jitter))
