"""HTTP for connectors: timeouts, retries with exponential backoff and jitter, Retry-After,
request spacing, and a count of requests made. Failures name the provider and what to do."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import tenacity

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class ProviderError(RuntimeError):
    """A provider answered in a way retrying will not fix (bad credentials, bad request)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RetryableProviderError(ProviderError):
    """Throttling, a server error, a timeout or a cut-off body: worth another try."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = None
        self.retry_after = retry_after


class ProviderHttp:
    """One provider account's HTTP session."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 6,
        max_backoff: float = 30.0,
        min_interval: float = 0.0,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        throttle_wait: Callable[[httpx.Response], float | None] | None = None,
        rate_limit_headers: bool = False,
    ) -> None:
        self.provider = provider
        # A provider whose 429 says how long to wait in its own headers or body reads it here;
        # it may raise ProviderError for a limit no retry today will clear (a daily quota).
        self.throttle_wait = throttle_wait
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.min_interval = min_interval
        # X-RateLimit-Limit/-Remaining/-Reset: with none remaining, the next request waits for
        # the reset, and a 429 waits that long before its retry.
        self.rate_limit_headers = rate_limit_headers
        self._not_before = 0.0
        self.rate_limit_waits = 0
        self.requests = 0
        self.retries = 0
        self._last = 0.0
        self.client = httpx.Client(
            base_url=base_url, timeout=timeout, headers=headers, auth=auth, follow_redirects=False
        )

    def close(self) -> None:
        self.client.close()

    def _space(self) -> None:
        wait = max(self._last + self.min_interval, self._not_before) - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last = time.monotonic()

    def _reset_in(self, resp: httpx.Response) -> float | None:
        """Seconds until the rate-limit window resets, when the headers say none remain.
        ``X-RateLimit-Reset`` is read as seconds from now, or as a Unix time when it is one."""
        remaining = resp.headers.get("X-RateLimit-Remaining")
        reset = resp.headers.get("X-RateLimit-Reset")
        try:
            if remaining is None or float(remaining) > 0 or reset is None:
                return None
            seconds = float(reset)
        except ValueError:
            return None
        if seconds > 1e9:  # a Unix time
            seconds -= time.time()
        return min(max(seconds, 0.0), self.max_backoff)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(self.max_backoff, 0.5 * 2 ** (state.attempt_number - 1))
        backoff += random.uniform(0, backoff / 2)  # jitter
        if isinstance(exc, RetryableProviderError) and exc.retry_after:
            backoff = max(backoff, min(exc.retry_after, self.max_backoff))
        return backoff

    def call(self, what: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` (one request and its parsing) with retries; ``what`` names it."""

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.retries += 1
            log.warning(
                "%s %s: attempt %d failed (%s); retrying",
                self.provider,
                what,
                state.attempt_number,
                state.outcome.exception(),
            )

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(RetryableProviderError),
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except RetryableProviderError as exc:
            raise ProviderError(
                f"{self.provider} {what}: still failing after {self.max_attempts} attempts "
                f"({exc}); the run will retry later, or check the provider's status"
            ) from exc

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One HTTP request; faults and retryable statuses raise RetryableProviderError."""
        self._space()
        self.requests += 1
        try:
            resp = self.client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise RetryableProviderError(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise RetryableProviderError(f"connection failed ({type(exc).__name__})") from exc
        reset_in = self._reset_in(resp) if self.rate_limit_headers else None
        if reset_in is not None:
            self._not_before = time.monotonic() + reset_in
            self.rate_limit_waits += 1
            log.info(
                "%s: rate limit used up; the next request waits %.1f s", self.provider, reset_in
            )
        if resp.status_code in RETRYABLE_STATUS:
            retry_after = reset_in
            if resp.status_code == 429 and self.throttle_wait is not None:
                retry_after = self.throttle_wait(resp)
            if retry_after is None and (header := resp.headers.get("Retry-After")):
                try:
                    retry_after = float(header)
                except ValueError:
                    retry_after = None
            raise RetryableProviderError(f"HTTP {resp.status_code}", retry_after)
        if resp.status_code in (401, 403):
            raise ProviderError(
                f"{self.provider} refused the credentials (HTTP {resp.status_code}); check the "
                "Airflow connection / AIRFLOW_CONN_<SOURCE_ID> of this source"
            )
        if resp.status_code >= 400:
            raise ProviderError(
                f"{self.provider} answered HTTP {resp.status_code}: {resp.text[:200]}",
                resp.status_code,
            )
        return resp


def parse_json(resp: httpx.Response) -> Any:
    """The body as JSON; a cut-off or garbled body is retryable (the next try may be whole)."""
    try:
        return json.loads(resp.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RetryableProviderError(
            f"body is not valid JSON ({len(resp.content)} bytes; truncated?)"
        ) from exc
