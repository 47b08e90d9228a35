"""Messages passed between pipeline stages, and the one-slot hand-off between threads."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Generic, Optional, TypeVar

import numpy as np

T = TypeVar("T")


def now() -> float:
    """The pipeline's clock (seconds, monotonic). Every timestamp uses it."""
    return time.perf_counter()


@dataclass
class FrameMeta:
    index: int
    capture_ts: float  # now() when the source frame was captured
    timings_ms: dict[str, float] = field(default_factory=dict)  # per-stage durations


@dataclass
class RenderedFrame:
    rgba: np.ndarray  # HxWx4 uint8, straight alpha
    meta: FrameMeta


class OneSlot(Generic[T]):
    """Holds only the newest item: a put replaces what the consumer has not taken yet,
    so a slow stage drops stale work instead of building a backlog."""

    def __init__(self) -> None:
        self._item: Optional[T] = None
        self._cond = threading.Condition()
        self.dropped = 0

    def put(self, item: T) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify_all()

    def take(self, timeout: float | None = None) -> Optional[T]:
        """The newest item, or None after `timeout` seconds without one."""
        with self._cond:
            if self._item is None:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item
