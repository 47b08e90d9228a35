"""Adaptive quality: give up the costliest extras when frames miss their budget, and take
them back when there is room.

The live pipeline has two busy threads (tracking, rendering) that share the CPU with
whatever else the user runs (OBS, a game). When the median time one of them spends on a
frame exceeds the frame budget (1/source fps), frames pile up and latency grows, so the
governor steps down one level at a time:

    0 "full"          mirror ensemble on, tracker at its configured input size
    1 "single pass"   the rotator runs once a frame (about a third less render time)
    2 "small tracker" also the tracker's input scaled down (MediaPipe's cost grows with it)

Stepping up needs clear room (median below `up_fraction` of the budget, since the level
above costs more) held for `up_after_s`; a level that has to be given up again soon after
an upgrade doubles that wait (up to `max_up_after_s`), so a machine at the edge does not
flip back and forth. No Qt, no clocks of its own: the clock is injected, so tests drive it.
"""
from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable, Optional


@dataclass(frozen=True)
class Level:
    name: str
    mirror_ensemble: bool  # False: single pass
    tracker_size: Optional[int]  # longest side of the tracker's input in px; None: as configured


LEVELS = (
    Level("full", True, None),
    Level("single pass", False, None),
    Level("small tracker", False, 320),
)


def levels_for(engine) -> tuple[Level, ...]:
    """The levels that save time on `engine`. An engine whose rotator pass already holds the
    mirror ensemble (a distilled decoder) has no second pass to give up, and one that looks
    the rotator's maps up in pose tables baked with the ensemble runs no rotator pass per
    frame at all: those keep the ensemble at every level (with tables, giving it up would
    only cost a re-bake)."""
    if getattr(engine, "mirror_distilled", False) or getattr(engine, "pose_tables", None) is not None:
        return tuple(replace(lv, mirror_ensemble=True) for lv in LEVELS if lv.name != "single pass")
    return LEVELS


@dataclass
class GovernorConfig:
    budget_ms: float = 1000.0 / 30.0  # one frame of a 30 fps camera
    window: int = 30  # frames in the median
    min_samples: int = 15  # no decision on fewer frames of the current level
    down_fraction: float = 1.0  # step down when median > budget * this
    up_fraction: float = 0.6  # step up when median < budget * this ...
    up_after_s: float = 5.0  # ... for this long
    max_up_after_s: float = 80.0
    flap_s: float = 10.0  # a step down this soon after a step up doubles up_after_s


class Governor:
    """Feed it frame times with observe(); it calls on_change(level) when the level moves.
    Thread-safe (the pipeline's render thread feeds it, the UI reads `level`)."""

    def __init__(self, config: GovernorConfig | None = None, levels: tuple[Level, ...] = LEVELS,
                 clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[Level], None] | None = None) -> None:
        self.config = config or GovernorConfig()
        self.levels = levels
        self.clock = clock
        self.on_change = on_change
        self.index = 0
        self._times: deque[float] = deque(maxlen=self.config.window)
        self._room_since: float | None = None
        self._up_after = self.config.up_after_s
        self._last_up: float = -1e18
        self._lock = threading.Lock()
        self.changes: list[tuple[float, str]] = []  # (time, level name), for figures and tests

    @property
    def level(self) -> Level:
        return self.levels[self.index]

    def set_budget(self, budget_ms: float) -> None:
        """The frame budget follows the source: 1000 / its fps."""
        if budget_ms > 0:
            self.config.budget_ms = float(budget_ms)

    def observe(self, frame_ms: float) -> Level | None:
        """One frame's busy time (the slower of tracking and rendering). Returns the new
        level when this frame moved it, else None."""
        with self._lock:
            c, t = self.config, self.clock()
            self._times.append(float(frame_ms))
            if len(self._times) < c.min_samples:
                return None
            med = statistics.median(self._times)
            if med > c.budget_ms * c.down_fraction and self.index + 1 < len(self.levels):
                if t - self._last_up < c.flap_s:  # the level above did not hold: wait longer
                    self._up_after = min(self._up_after * 2.0, c.max_up_after_s)
                else:  # a new change of load, not flapping
                    self._up_after = c.up_after_s
                return self._move(+1, t)
            if med < c.budget_ms * c.up_fraction and self.index > 0:
                if self._room_since is None:
                    self._room_since = t
                elif t - self._room_since >= self._up_after:
                    self._last_up = t
                    return self._move(-1, t)
            else:
                self._room_since = None
            return None

    def _move(self, step: int, t: float) -> Level:
        self.index += step
        self._times.clear()  # the new level's own frames decide the next move
        self._room_since = None
        self.changes.append((t, self.level.name))
        level = self.level
        if self.on_change is not None:
            self.on_change(level)
        return level
