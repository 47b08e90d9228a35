"""What the pipeline measures about itself: per-stage timings, rates and counters over the
last frames, shown by the window's status bar and printed by the benchmarks."""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Stats:
    fps: float = 0.0  # rendered frames per second
    source_fps: float = 0.0  # frames per second taken from the source
    latency_ms: float = 0.0  # median capture -> outputs over the last frames
    latency_p95_ms: float = 0.0
    stage_ms: dict[str, float] = field(default_factory=dict)  # median per stage
    frames_in: int = 0
    frames_out: int = 0
    skipped: int = 0  # renders skipped because the pose did not change
    idle_capped: int = 0  # renders left out because only breathing and sway moved (IDLE_RENDER_FPS)
    reused: int = 0  # frames not tracked because the picture had not changed
    dropped: int = 0  # frames replaced in a hand-off before a stage took them
    face_found: bool = False
    quality: str = ""  # the adaptive quality level ("" when no governor runs)
    source: str = ""  # the input delivering frames ("" when idling with no camera)


class RollingStats:
    """Rolling medians and rates over the last `n` frames. Written by the pipeline threads
    and read by the UI's status timer, hence the lock (a deque must not change while it is
    being iterated)."""

    def __init__(self, n: int = 90) -> None:
        self.n = n
        self.values: dict[str, deque] = {}
        self.times: dict[str, deque] = {}
        self.lock = threading.Lock()

    def add(self, key: str, value: float) -> None:
        with self.lock:
            self.values.setdefault(key, deque(maxlen=self.n)).append(value)

    def tick(self, key: str, t: float) -> None:
        with self.lock:
            self.times.setdefault(key, deque(maxlen=self.n)).append(t)

    def snapshot(self, key: str) -> list[float]:
        with self.lock:
            return list(self.values.get(key, ()))

    def keys(self) -> list[str]:
        with self.lock:
            return list(self.values)

    def median(self, key: str) -> float:
        v = self.snapshot(key)
        return float(np.median(v)) if v else 0.0

    def pct(self, key: str, q: float) -> float:
        v = self.snapshot(key)
        return float(np.percentile(v, q)) if v else 0.0

    def rate(self, key: str, t_now: float) -> float:
        with self.lock:
            ts = list(self.times.get(key, ()))
        if len(ts) < 2 or t_now - ts[-1] > 2.0:
            return 0.0
        return (len(ts) - 1) / max(ts[-1] - ts[0], 1e-6)
