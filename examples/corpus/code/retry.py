"""Retry a call with exponential back-off and jitter, honouring Retry-After."""

import random
import time


class RetryableError(Exception):
    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


def backoff_delay(attempt, base=0.5, cap=30.0):
    """Full jitter: a random delay up to base * 2**attempt, at most cap."""
    return random.uniform(0, min(cap, base * 2 ** attempt))


def call_with_retries(fn, retries=5):
    """Call fn(); retry on RetryableError up to `retries` times."""
    for attempt in range(retries + 1):
        try:
            return fn()
        except RetryableError as err:
            if attempt == retries:
                raise
            delay = err.retry_after if err.retry_after else backoff_delay(attempt)
            time.sleep(delay)


class Client:
    def __init__(self, session, retries=5):
        self.session = session
        self.retries = retries

    def get(self, url):
        def once():
            response = self.session.get(url)
            if response.status_code == 429 or response.status_code >= 500:
                after = response.headers.get("Retry-After")
                raise RetryableError(str(response.status_code),
                                     float(after) if after else None)
            return response
        return call_with_retries(once, self.retries)
