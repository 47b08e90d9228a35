"""Eye stabiliser for big anime eyes: a half-closed anime eye looks wrong, so snap near-closed
to closed and near-open to open, move both eyes together unless one is clearly winking, and
let the far eye copy the near one when the head is turned far (the far eye is foreshortened
and reads as closing)."""
from __future__ import annotations

from app.mapping.config import EyeConfig


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def closure(blink: float, open_level: float, closed_level: float) -> float:
    """eyeBlink score -> 0 (open as at rest) .. 1 (closed)."""
    span = max(closed_level - open_level, 0.1)
    return _clip01((blink - open_level) / span)


def snap(c: float, cfg: EyeConfig) -> float:
    """Contrast curve: below snap_open -> 0, above snap_closed -> 1, smooth between."""
    span = max(cfg.snap_closed - cfg.snap_open, 1e-3)
    u = _clip01((c - cfg.snap_open) / span)
    return u * u * (3.0 - 2.0 * u)


def stabilise(left: float, right: float, yaw: float, cfg: EyeConfig) -> tuple[float, float]:
    """Closures (0 open .. 1 closed) of the person's left and right eye -> displayed closures.
    yaw in degrees, > 0 when the face turns toward the image's right (the left eye is far)."""
    # The far eye copies the near one, blended in over 10 degrees past copy_yaw.
    w = _clip01((abs(yaw) - cfg.copy_yaw) / 10.0)
    if yaw > 0:
        left = left + w * (right - left)
    else:
        right = right + w * (left - right)
    diff = left - right
    if cfg.link:
        # Linked below (threshold - 0.1), independent above threshold, blended between.
        own = _clip01((abs(diff) - (cfg.wink_threshold - 0.1)) / 0.1)
        mean = 0.5 * (left + right)
        left, right = mean + own * (left - mean), mean + own * (right - mean)
        if own > 0:  # MediaPipe under-reads a wink: the winking eye is scaled up to shut
            boost = 1.0 / max(cfg.wink_closed_level, 1e-3)
            if diff > 0:
                left = left + own * (min(1.0, left * boost) - left)
            else:
                right = right + own * (min(1.0, right * boost) - right)
    return snap(left, cfg), snap(right, cfg)
