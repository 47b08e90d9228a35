"""FaceState -> target pose (before smoothing): calibration, feature formulas, per-parameter
gain/dead zone/curve, the eye stabiliser and the brow link."""
from __future__ import annotations

import math

from app.mapping.calibration import Calibration
from app.mapping.config import ChannelConfig, MapperConfig
from app.mapping.eyes import closure, stabilise
from app.tracking.face_state import FaceState

# Full scale of each target in its own unit (curves bend relative to it).
FULL_SCALE = {"head_yaw": 30.0, "head_pitch": 30.0, "head_roll": 30.0}


def shape(x: float, ch: ChannelConfig, full: float = 1.0) -> float:
    """Dead zone, gain and curve, symmetric about 0."""
    mag = max(abs(x) - ch.deadzone, 0.0) * ch.gain
    if ch.curve != 1.0 and mag > 0.0:
        mag = full * (mag / full) ** ch.curve
    return math.copysign(mag, x)


def raw_features(face: FaceState, cal: Calibration, cfg: MapperConfig) -> dict[str, float]:
    """Calibrated features in pose units, before shaping (eyes are closures 0..1)."""
    def b(name: str) -> float:  # blendshape above its calibrated rest level
        return face.bs(name) - cal.base(name)

    e = cfg.eyes
    look_x = 0.5 * (b("eyeLookOutLeft") + b("eyeLookInRight") - b("eyeLookInLeft")
                    - b("eyeLookOutRight"))  # gaze toward the person's left = image right
    look_y = 0.5 * (b("eyeLookUpLeft") + b("eyeLookUpRight") - b("eyeLookDownLeft")
                    - b("eyeLookDownRight"))
    form = (0.5 * (b("mouthSmileLeft") + b("mouthSmileRight"))
            - 0.5 * (b("mouthFrownLeft") + b("mouthFrownRight"))
            - 0.5 * max(b("mouthPucker"), b("mouthFunnel")))
    return {
        "head_yaw": face.yaw - cal.yaw,
        "head_pitch": face.pitch - cal.pitch,
        "head_roll": face.roll - cal.roll,
        "eye_left_close": closure(face.bs("eyeBlinkLeft"),
                                  cal.base("eyeBlinkLeft", e.open_level), e.closed_level),
        "eye_right_close": closure(face.bs("eyeBlinkRight"),
                                   cal.base("eyeBlinkRight", e.open_level), e.closed_level),
        "iris_x": look_x,
        "iris_y": look_y,
        "brow_left": b("browInnerUp") + b("browOuterUpLeft") - 2.0 * b("browDownLeft"),
        "brow_right": b("browInnerUp") + b("browOuterUpRight") - 2.0 * b("browDownRight"),
        "mouth_open": b("jawOpen") - max(b("mouthClose"), 0.0),
        "mouth_form": form,
        # A laugh squints the cheeks and curves the closing lids (the expression parameter
        # shows as the eyes close); brows drawn together and down read as angry, the inner
        # ends raised alone as troubled.
        "eye_left_smile": 0.5 * (b("mouthSmileLeft") + b("cheekSquintLeft")),
        "eye_right_smile": 0.5 * (b("mouthSmileRight") + b("cheekSquintRight")),
        "brow_left_angle": b("browInnerUp") - 0.5 * b("browOuterUpLeft") - b("browDownLeft"),
        "brow_right_angle": b("browInnerUp") - 0.5 * b("browOuterUpRight") - b("browDownRight"),
    }


def face_targets(face: FaceState, cal: Calibration, cfg: MapperConfig) -> dict[str, float]:
    """Target pose in DEFAULT_POSE_SPEC names (callers drop names their spec lacks)."""
    raw = raw_features(face, cal, cfg)
    out: dict[str, float] = {}
    for name in ("head_yaw", "head_pitch", "head_roll", "iris_x", "iris_y",
                 "brow_left", "brow_right", "mouth_open", "mouth_form",
                 "eye_left_smile", "eye_right_smile", "brow_left_angle", "brow_right_angle"):
        out[name] = shape(raw[name], cfg.channel(name), FULL_SCALE.get(name, 1.0))
    for name in ("head_yaw", "head_pitch", "head_roll"):  # the body follows the scaled yaw
        out[name] *= cfg.head_motion
    k = cfg.brow_link
    for left, right in (("brow_left", "brow_right"), ("brow_left_angle", "brow_right_angle")):
        mean = 0.5 * (out[left] + out[right])
        out[left] += k * (mean - out[left])
        out[right] += k * (mean - out[right])
    cl, cr = stabilise(raw["eye_left_close"], raw["eye_right_close"], raw["head_yaw"], cfg.eyes)
    out["eye_left_open"] = 1.0 - shape(cl, cfg.channel("eye_left_open"))
    out["eye_right_open"] = 1.0 - shape(cr, cfg.channel("eye_right_open"))
    out["body_yaw"] = shape(cfg.body_follow * out["head_yaw"] / 30.0, cfg.channel("body_yaw"))
    return out
