"""A camera picture that did not change is not tracked again (idle cost)."""
from __future__ import annotations

import cv2
import numpy as np


class StillFrames:
    """Tells whether a camera frame shows the same picture as the last one tracked, so a
    still scene costs no tracking. Compares 48x36 grey thumbnails: sensor noise averages
    out, a blink or a small head move does not. Re-tracks at least every `max_age` s.
    The very same array again (a still image source hands out one array) is the same
    picture without a thumbnail, and after `settle` tracks (MediaPipe refines its first
    guess on the next frames) it is not re-tracked any more: a still picture then costs no
    tracking and, once the pose has settled, no rendering."""

    def __init__(self, threshold: float = 2.0, max_age: float = 1.0, settle: int = 3) -> None:
        self.threshold, self.max_age, self.settle = threshold, max_age, settle
        self._thumb: np.ndarray | None = None
        self._t = -1e9
        self._obj: np.ndarray | None = None
        self._obj_count = 0

    def same(self, bgr: np.ndarray, t: float) -> bool:
        if bgr is self._obj:
            if t - self._t < self.max_age or self._obj_count >= self.settle:
                return True
            self._obj_count += 1
            self._t = t
            return False
        self._obj, self._obj_count = bgr, 1
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
        thumb = cv2.resize(grey, (48, 36), interpolation=cv2.INTER_AREA).astype(np.int16)
        if (self._thumb is not None and t - self._t < self.max_age
                and int(np.abs(thumb - self._thumb).max()) <= self.threshold):
            return True
        self._thumb, self._t = thumb, t
        return False
