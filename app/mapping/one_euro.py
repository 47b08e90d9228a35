"""One-Euro filter (Casiez, Roussel, Vogel, CHI 2012): a low-pass filter whose cutoff rises
with the signal's speed, so a still face does not shimmer and a blink or a head turn keeps
its timing."""
from __future__ import annotations

import math


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """min_cutoff (Hz): smoothing when still (lower = smoother). beta: how fast the cutoff
    rises with speed (higher = less lag in fast motion). d_cutoff (Hz): smoothing of the
    speed estimate. Values are in whatever unit the caller feeds; speed is unit/second."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0) -> None:
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError(f"One-Euro needs min_cutoff > 0, d_cutoff > 0, beta >= 0; got "
                             f"{min_cutoff}, {d_cutoff}, {beta}")
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self, value: float | None = None, t: float | None = None) -> None:
        self._x = value
        self._dx = 0.0
        self._t = t

    @property
    def value(self) -> float | None:
        return self._x

    @property
    def last_t(self) -> float | None:
        return self._t

    def __call__(self, x: float, t: float) -> float:
        """Filtered value of sample x taken at time t (seconds, increasing)."""
        if self._x is None or self._t is None:
            self.reset(x, t)
            return x
        dt = t - self._t
        if dt <= 0:  # repeated or out-of-order timestamp: nothing new to filter
            return self._x
        dx = (x - self._x) / dt
        self._dx += _alpha(self.d_cutoff, dt) * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * abs(self._dx)
        self._x += _alpha(cutoff, dt) * (x - self._x)
        self._t = t
        return self._x
