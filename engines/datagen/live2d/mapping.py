"""PoseSpec values <-> Live2D parameter values, from each model's own ranges.

Live2D's standard parameters carry the controls the engine needs. Sides and signs were
checked on renders (tests/engines/datagen/test_live2d_render.py): PARAM_EYE_L_* is the
character's own left eye (the image's right), PARAM_ANGLE_X > 0 turns the face toward the
image's right, PARAM_ANGLE_Y > 0 lifts the chin, PARAM_ANGLE_Z > 0 tilts the head
clockwise, PARAM_EYE_BALL_X > 0 moves the irises toward the image's right and
PARAM_EYE_BALL_Y > 0 up. So every sign matches the PoseSpec's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from engines.posespec import DEFAULT_POSE_SPEC, PoseSpec


@dataclass(frozen=True)
class Binding:
    spec_name: str
    candidates: tuple[str, ...]  # Live2D ids, first one present in the model wins
    kind: str  # "signed" (0 -> neutral, ends -> ends), "unsigned" (lo..hi), "eye" (0 closed .. 1 open)
    sign: float = 1.0


BINDINGS: tuple[Binding, ...] = (
    Binding("brow_left", ("PARAM_BROW_L_Y",), "signed"),
    Binding("brow_right", ("PARAM_BROW_R_Y",), "signed"),
    Binding("eye_left_open", ("PARAM_EYE_L_OPEN",), "eye"),
    Binding("eye_right_open", ("PARAM_EYE_R_OPEN",), "eye"),
    Binding("iris_x", ("PARAM_EYE_BALL_X",), "signed"),
    Binding("iris_y", ("PARAM_EYE_BALL_Y",), "signed"),
    Binding("mouth_open", ("PARAM_MOUTH_OPEN_Y",), "unsigned"),
    Binding("mouth_form", ("PARAM_MOUTH_FORM",), "signed"),
    Binding("head_yaw", ("PARAM_ANGLE_X",), "signed"),
    Binding("head_pitch", ("PARAM_ANGLE_Y",), "signed"),
    Binding("head_roll", ("PARAM_ANGLE_Z",), "signed"),
    Binding("body_yaw", ("PARAM_BODY_ANGLE_X", "PARAM_BODY_X"), "signed"),
    Binding("breathing", ("PARAM_BREATH",), "unsigned"),
    # Expressions. A rig's eye smile curves the lids as they close (it shows only then);
    # its brow angle tilts the inner ends down (-1, angry) or up (+1, troubled).
    Binding("eye_left_smile", ("PARAM_EYE_L_SMILE",), "unsigned"),
    Binding("eye_right_smile", ("PARAM_EYE_R_SMILE",), "unsigned"),
    Binding("brow_left_angle", ("PARAM_BROW_L_ANGLE",), "signed"),
    Binding("brow_right_angle", ("PARAM_BROW_R_ANGLE",), "signed"),
)

# Parameters that are never left at a non-neutral model default: rest is explicit.
NEUTRAL_ZERO = ("PARAM_ANGLE_X", "PARAM_ANGLE_Y", "PARAM_ANGLE_Z", "PARAM_BODY_ANGLE_X",
                "PARAM_BODY_ANGLE_Y", "PARAM_BODY_ANGLE_Z", "PARAM_BODY_X", "PARAM_BODY_Y",
                "PARAM_BODY_Z", "PARAM_EYE_BALL_X", "PARAM_EYE_BALL_Y")


@dataclass(frozen=True)
class Axis:
    """One PoseSpec parameter bound to one model parameter."""

    spec_name: str
    param: str
    kind: str
    spec_lo: float
    spec_hi: float
    lo: float  # model value at the spec's low end
    neutral: float  # model value at the spec's 0 (signed) or rest
    hi: float  # model value at the spec's high end

    def to_model(self, v: float) -> float:
        v = min(max(float(v), self.spec_lo), self.spec_hi)
        if self.kind == "signed":
            # Piecewise linear so each end of the spec range meets the same end of the model's.
            if v >= 0:
                return self.neutral + (v / self.spec_hi) * (self.hi - self.neutral)
            return self.neutral + (v / self.spec_lo) * (self.lo - self.neutral)
        t = (v - self.spec_lo) / (self.spec_hi - self.spec_lo)
        return self.lo + t * (self.hi - self.lo)


class PoseMapping:
    """Maps a PoseSpec pose to Live2D parameter values for one model."""

    def __init__(self, params: Mapping, eye_open: float | None = None, spec: PoseSpec = DEFAULT_POSE_SPEC) -> None:
        """params: id -> object with lo, hi, default; eye_open: the model's open-eye value."""
        self.spec = spec
        self.axes: dict[str, Axis] = {}
        for b in BINDINGS:
            pid = next((c for c in b.candidates if c in params), None)
            if pid is None or b.spec_name not in spec.names:
                continue
            p, sp = params[pid], spec[b.spec_name]
            if b.kind == "signed":
                neutral = 0.0 if p.lo < 0.0 < p.hi else (p.lo + p.hi) / 2.0
                # With sign -1 the spec's high end meets the model's low end.
                lo_m, hi_m = (p.lo, p.hi) if b.sign > 0 else (p.hi, p.lo)
                ax = Axis(b.spec_name, pid, "signed", sp.lo, sp.hi, lo_m, neutral, hi_m)
            elif b.kind == "eye":
                open_v = p.default if eye_open is None else eye_open
                open_v = min(max(open_v, p.lo), p.hi)
                closed = min(max(0.0, p.lo), open_v)
                ax = Axis(b.spec_name, pid, "unsigned", sp.lo, sp.hi, closed, open_v, open_v)
            else:
                # Live2D's convention is 0..1 even when a model allows more (shizuku's mouth 0..2).
                hi = min(p.hi, 1.0) if p.lo < 1.0 else p.hi
                ax = Axis(b.spec_name, pid, "unsigned", sp.lo, sp.hi, p.lo, p.lo, hi)
            self.axes[b.spec_name] = ax
        self.neutral_zero = {pid: 0.0 for pid in NEUTRAL_ZERO if pid in params and params[pid].lo <= 0.0 <= params[pid].hi}

    def supports(self, spec_name: str) -> bool:
        return spec_name in self.axes

    def to_params(self, pose: Mapping[str, float]) -> dict[str, float]:
        """Full model values for a (partial) pose: missing names take the PoseSpec defaults."""
        full = self.spec.clamp(pose)
        out = dict(self.neutral_zero)
        for name, ax in self.axes.items():
            out[ax.param] = ax.to_model(full[name])
        return out
