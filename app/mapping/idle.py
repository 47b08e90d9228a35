"""Idle motion: auto-blink, breathing and a slow head sway, as a function of time only, so a
character without a face to follow still looks alive (and never freezes)."""
from __future__ import annotations

import math
import random

from app.mapping.config import IdleConfig


class IdleLayer:
    def __init__(self, cfg: IdleConfig) -> None:
        lo, hi = cfg.blink_interval
        if not (0 < lo <= hi) or cfg.blink_duration <= 0 or cfg.breathing_period <= 0:
            raise ValueError("idle settings need 0 < blink_interval[0] <= blink_interval[1], "
                             "blink_duration > 0 and breathing_period > 0")
        self.cfg = cfg
        self._rng = random.Random(cfg.seed)
        self._blinks: list[float] = []  # start times of scheduled blinks, increasing
        self._t0: float | None = None

    def _schedule_until(self, t: float) -> None:
        if self._t0 is None:
            self._t0 = t
            self._blinks.append(t + self._rng.uniform(*self.cfg.blink_interval) * 0.5)
        while self._blinks[-1] < t + self.cfg.blink_duration:
            self._blinks.append(self._blinks[-1] + self._rng.uniform(*self.cfg.blink_interval))
        # Keep only blinks that can still matter.
        while len(self._blinks) > 2 and self._blinks[1] + self.cfg.blink_duration < t:
            self._blinks.pop(0)

    def blink_closure(self, t: float) -> float:
        """0 open .. 1 closed: a quick close (40% of the blink) and a slower opening."""
        self._schedule_until(t)
        d = self.cfg.blink_duration
        for start in self._blinks:
            u = (t - start) / d
            if 0.0 <= u < 1.0:
                v = u / 0.4 if u < 0.4 else (1.0 - u) / 0.6
                return v * v * (3.0 - 2.0 * v)
        return 0.0

    def breathing(self, t: float) -> float:
        """0..1, a smooth breath every breathing_period seconds."""
        phase = 2.0 * math.pi * t / self.cfg.breathing_period
        return self.cfg.breathing_depth * 0.5 * (1.0 - math.cos(phase))

    def sway(self, t: float) -> tuple[float, float, float]:
        """Idle (yaw, pitch, roll) in degrees: incommensurate sines, never repeating exactly."""
        a, p = self.cfg.sway_deg, self.cfg.sway_period
        w = 2.0 * math.pi / p
        yaw = a * (0.7 * math.sin(w * t) + 0.3 * math.sin(2.71 * w * t + 1.0))
        pitch = 0.5 * a * (0.6 * math.sin(1.37 * w * t + 2.0) + 0.4 * math.sin(3.1 * w * t))
        roll = 0.6 * a * math.sin(0.83 * w * t + 0.5)
        return yaw, pitch, roll

    def pose(self, t: float) -> dict[str, float]:
        """The idle pose at time t, in DEFAULT_POSE_SPEC names (callers drop unknown names)."""
        yaw, pitch, roll = self.sway(t)
        eye = 1.0 - self.blink_closure(t)
        return {
            "head_yaw": yaw, "head_pitch": pitch, "head_roll": roll,
            "body_yaw": 0.3 * yaw / 30.0,
            "eye_left_open": eye, "eye_right_open": eye,
            "iris_x": 0.0, "iris_y": 0.0, "brow_left": 0.0, "brow_right": 0.0,
            "mouth_open": 0.0, "mouth_form": 0.0,
            "eye_left_smile": 0.0, "eye_right_smile": 0.0, "brow_left_angle": 0.0, "brow_right_angle": 0.0,
            "breathing": self.breathing(t),
        }
