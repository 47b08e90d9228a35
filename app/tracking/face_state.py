"""FaceState: what any tracker reports for one camera frame, independent of the tracker.

Conventions (the same as engines/posespec.py, as seen in the image the tracker was given):
- blendshapes: ARKit names -> 0..1. "Left" is the person's own left, which appears on the
  image's right side.
- yaw > 0: the face turns toward the image's right; pitch > 0: chin up; roll > 0: the top of
  the head tilts toward the image's right (clockwise). Degrees.
- capture_ts: app.frames.now() seconds when the frame was captured.
- landmarks: optional (N, 2) float array of pixel coordinates, for the UI overlay.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np


def swap_side(name: str) -> str:
    """ARKit name of the other side's blendshape (eyeBlinkLeft <-> eyeBlinkRight)."""
    if name.endswith("Left"):
        return name[:-4] + "Right"
    if name.endswith("Right"):
        return name[:-5] + "Left"
    return name


@dataclass
class FaceState:
    blendshapes: dict[str, float] = field(default_factory=dict)
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    confidence: float = 0.0
    capture_ts: float = 0.0
    tracked: bool = False
    landmarks: Optional[np.ndarray] = None

    @classmethod
    def lost(cls, capture_ts: float) -> "FaceState":
        """The clean "no face in this frame" state."""
        return cls(capture_ts=capture_ts)

    def bs(self, name: str) -> float:
        return float(self.blendshapes.get(name, 0.0))

    def mirrored(self, width: float | None = None) -> "FaceState":
        """The state of the horizontally flipped image: sides swapped, yaw and roll negated,
        landmarks' x reflected within an image `width` pixels wide."""
        lms = self.landmarks
        if lms is not None:
            if width is None:
                raise ValueError("mirroring landmarks needs the image width")
            lms = lms.copy()
            lms[:, 0] = width - lms[:, 0]
        return replace(
            self,
            blendshapes={swap_side(k): v for k, v in self.blendshapes.items()},
            yaw=-self.yaw,
            roll=-self.roll,
            landmarks=lms,
        )
