"""Token approximation and the tokens-per-minute quota.

Tokens are approximated as ceil(characters / 4), the rule of thumb Anthropic and AWS give
for English text. It is cheap, deterministic and close enough to exercise quota logic; it is
not the model's real tokenizer.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


def count_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


class TokenQuota:
    """Sliding 60 s window of token reservations, like Bedrock's on-demand TPM quota.

    Bedrock reserves input tokens + maxTokens when a call starts and gives back the unused
    part of maxTokens when it ends, so a caller that never sets maxTokens is throttled early.
    """

    WINDOW_SECONDS = 60.0

    def __init__(self, tokens_per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.limit = tokens_per_minute
        self._clock = clock
        self._lock = threading.Lock()
        # Each entry is a mutable [timestamp, tokens] so settle() can shrink it in place.
        self._entries: deque[list[float]] = deque()

    def _used(self, now: float) -> float:
        while self._entries and now - self._entries[0][0] >= self.WINDOW_SECONDS:
            self._entries.popleft()
        return sum(entry[1] for entry in self._entries)

    def reserve(self, tokens: int) -> list[float] | None:
        """Return a reservation handle, or None when the call must be throttled."""
        if self.limit <= 0:
            return [0.0, 0.0]
        with self._lock:
            now = self._clock()
            if self._used(now) + tokens > self.limit:
                return None
            entry = [now, float(tokens)]
            self._entries.append(entry)
            return entry

    def settle(self, reservation: list[float], actual_tokens: int) -> None:
        """Replace the reservation by the tokens the call really used."""
        with self._lock:
            reservation[1] = float(min(reservation[1], actual_tokens))

    def used(self) -> float:
        with self._lock:
            return self._used(self._clock())
