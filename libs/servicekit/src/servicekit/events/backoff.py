"""Capped exponential backoff with jitter, shared by publishing and the outbox relays."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before retry `attempt` (1-based): uniform in [c/2, c], c = min(cap, base * 2**(attempt-1)).

    The jitter keeps many relays that lost the broker together from retrying in lockstep; the lower half
    bound keeps the delay growing so a long outage is not hammered.
    """

    base_seconds: float = 0.1
    cap_seconds: float = 5.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(attempt - 1, 0)))
        return random.uniform(ceiling / 2, ceiling)
