"""Neutral-face calibration: "look at the camera with a neutral face" records the head angles
and the blendshape levels of that face, which the mapper then treats as rest."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.tracking.face_state import FaceState, swap_side

# Blendshapes whose resting level is recorded (the ones the mapper reads).
CALIBRATED = (
    "eyeBlinkLeft", "eyeBlinkRight",
    "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "browDownLeft", "browDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight",
    "eyeLookUpLeft", "eyeLookUpRight", "eyeLookDownLeft", "eyeLookDownRight",
    "jawOpen", "mouthClose", "mouthSmileLeft", "mouthSmileRight",
    "mouthFrownLeft", "mouthFrownRight", "mouthPucker", "mouthFunnel",
)


@dataclass
class Calibration:
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    baselines: dict[str, float] = field(default_factory=dict)  # blendshape -> rest level

    @classmethod
    def capture(cls, face: FaceState) -> "Calibration":
        if not face.tracked:
            raise ValueError("cannot calibrate: no face is tracked in this frame; look at the "
                             "camera with a neutral face and try again")
        return cls(yaw=face.yaw, pitch=face.pitch, roll=face.roll,
                   baselines={k: face.bs(k) for k in CALIBRATED})

    def base(self, name: str, default: float = 0.0) -> float:
        return float(self.baselines.get(name, default))

    def mirrored(self) -> "Calibration":
        """The same rest pose seen through a mirrored camera (use when the mirror setting
        changes): sides swapped, yaw and roll negated."""
        return Calibration(yaw=-self.yaw, pitch=self.pitch, roll=-self.roll,
                           baselines={swap_side(k): v for k, v in self.baselines.items()})

    def to_dict(self) -> dict[str, Any]:
        return {"yaw": self.yaw, "pitch": self.pitch, "roll": self.roll,
                "baselines": dict(self.baselines)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Calibration":
        unknown = set(d) - {"yaw", "pitch", "roll", "baselines"}
        if unknown:
            raise ValueError(f"unknown calibration key(s): {', '.join(sorted(unknown))}")
        return cls(yaw=float(d.get("yaw", 0.0)), pitch=float(d.get("pitch", 0.0)),
                   roll=float(d.get("roll", 0.0)),
                   baselines={str(k): float(v) for k, v in d.get("baselines", {}).items()})
