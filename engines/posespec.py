"""Pose parameters: names, groups, ranges and defaults, declared once by the engine.

The PoseSpec travels with the weights (weights/manifest.json) so the mapper, the sliders
and the training data all agree on what a pose is.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Mapping

import numpy as np


@dataclass(frozen=True)
class PoseParam:
    name: str
    group: str  # brows | eyes | iris | mouth | head | body
    lo: float
    hi: float
    default: float
    pair: str | None = None  # name of the mirrored partner (left <-> right)
    mirror_sign: float = 1.0  # value factor under a horizontal flip (yaw/roll/iris_x: -1)
    stage: str = "morph"  # "morph" (face morpher) or "rotate" (face rotator)
    unit: str = ""
    # The network reads the value relative to the default (its input is 0 at rest), so a
    # network grown to read this parameter (zero weights, then only those trained) renders
    # every pose without it exactly as before. Parameters without it read 0 at the middle of
    # their range, as the weights that read them were trained.
    centred: bool = False

    @property
    def input_shift(self) -> float:
        """What network_input subtracts: the default's -1..1 reading when centred, else 0."""
        return 2.0 * (self.default - self.lo) / (self.hi - self.lo) - 1.0 if self.centred else 0.0

    def network_input(self, value):
        """The value (or array of values) as the networks read it: the range mapped to
        -1..1, shifted so that the default reads 0 when centred."""
        return 2.0 * (value - self.lo) / (self.hi - self.lo) - 1.0 - self.input_shift


@dataclass(frozen=True)
class PoseSpec:
    params: tuple[PoseParam, ...]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def __len__(self) -> int:
        return len(self.params)

    def __getitem__(self, name: str) -> PoseParam:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"unknown pose parameter {name!r}; known: {', '.join(self.names)}")

    def index(self, name: str) -> int:
        return self.names.index(name)

    def stage_names(self, stage: str) -> list[str]:
        return [p.name for p in self.params if p.stage == stage]

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def clamp(self, pose: Mapping[str, float]) -> dict[str, float]:
        """Full pose: unknown names rejected, missing names take defaults, values clipped."""
        out = self.defaults()
        for k, v in pose.items():
            p = self[k]
            out[k] = float(min(max(float(v), p.lo), p.hi))
        return out

    def to_vector(self, pose: Mapping[str, float]) -> np.ndarray:
        full = self.clamp(pose)
        return np.array([full[n] for n in self.names], dtype=np.float32)

    def from_vector(self, vec: Iterable[float]) -> dict[str, float]:
        return {n: float(v) for n, v in zip(self.names, vec)}

    def normalized(self, pose: Mapping[str, float], stage: str | None = None) -> np.ndarray:
        """Values scaled to [-1, 1] by each range: the networks' input."""
        full = self.clamp(pose)
        ps = [p for p in self.params if stage is None or p.stage == stage]
        return np.array([p.network_input(full[p.name]) for p in ps], dtype=np.float32)

    def mirrored(self, pose: Mapping[str, float]) -> dict[str, float]:
        """The pose of the horizontally flipped image: L/R swapped, yaw/roll/iris_x negated."""
        full = self.clamp(pose)
        out = {}
        for p in self.params:
            src = p.pair or p.name
            out[p.name] = full[src] * p.mirror_sign
        return out

    def mirrored_vectors(self, poses: np.ndarray) -> np.ndarray:
        """(N, P) pose values in spec order -> those of the flipped images (as mirrored())."""
        src = [self.names.index(p.pair or p.name) for p in self.params]
        sign = np.array([p.mirror_sign for p in self.params], np.float32)
        return np.asarray(poses, np.float32)[:, src] * sign

    def to_json(self) -> list[dict]:
        return [asdict(p) for p in self.params]

    @classmethod
    def from_json(cls, items: list[dict]) -> "PoseSpec":
        return cls(tuple(PoseParam(**d) for d in items))


def _p(*args, **kw) -> PoseParam:
    return PoseParam(*args, **kw)


# The engine's parameters. Sides and signs, fixed for every data source and the mapper:
# - "left" is the character's own left, which appears on the image's RIGHT side.
# - eye_*_open: 1 = open as drawn, 0 = closed. brow_*: -1 lowered/angry .. +1 raised.
# - iris_x: +1 irises toward the image's right; iris_y: +1 up.
# - mouth_open: 0 closed .. 1 wide; mouth_form: -1 frown .. +1 smile.
# - head_yaw > 0: the face turns toward the image's right; head_pitch > 0: chin up;
#   head_roll > 0: the top of the head tilts toward the image's right (clockwise).
#   Degrees, within the range the engine was trained to show.
# - body_yaw > 0: the body turns toward the image's right; breathing 0..1 (chest rise).
# - Expressions, appended after the rest so that a network reading fewer parameters reads a
#   prefix of each stage's inputs and is grown to read more (model.grow_pose_inputs):
#   eye_*_smile 0..1 curves a closing eye into a smile (^ ^; it shows as the eye closes);
#   brow_*_angle -1 angry (inner ends down) .. +1 troubled (inner ends up).
DEFAULT_POSE_SPEC = PoseSpec(
    (
        _p("brow_left", "brows", -1.0, 1.0, 0.0, pair="brow_right"),
        _p("brow_right", "brows", -1.0, 1.0, 0.0, pair="brow_left"),
        _p("eye_left_open", "eyes", 0.0, 1.0, 1.0, pair="eye_right_open"),
        _p("eye_right_open", "eyes", 0.0, 1.0, 1.0, pair="eye_left_open"),
        _p("iris_x", "iris", -1.0, 1.0, 0.0, mirror_sign=-1.0),
        _p("iris_y", "iris", -1.0, 1.0, 0.0),
        _p("mouth_open", "mouth", 0.0, 1.0, 0.0),
        _p("mouth_form", "mouth", -1.0, 1.0, 0.0),
        _p("head_yaw", "head", -30.0, 30.0, 0.0, mirror_sign=-1.0, stage="rotate", unit="deg"),
        _p("head_pitch", "head", -30.0, 30.0, 0.0, stage="rotate", unit="deg"),
        _p("head_roll", "head", -30.0, 30.0, 0.0, mirror_sign=-1.0, stage="rotate", unit="deg"),
        _p("body_yaw", "body", -1.0, 1.0, 0.0, mirror_sign=-1.0, stage="rotate"),
        _p("breathing", "body", 0.0, 1.0, 0.0, stage="rotate"),
        _p("eye_left_smile", "eyes", 0.0, 1.0, 0.0, pair="eye_right_smile", centred=True),
        _p("eye_right_smile", "eyes", 0.0, 1.0, 0.0, pair="eye_left_smile", centred=True),
        _p("brow_left_angle", "brows", -1.0, 1.0, 0.0, pair="brow_right_angle", centred=True),
        _p("brow_right_angle", "brows", -1.0, 1.0, 0.0, pair="brow_left_angle", centred=True),
    )
)

# The expression parameters (see above): weights may read none of them, and the app offers
# only what its weights' manifest lists.
EXPRESSIONS: tuple[str, ...] = ("eye_left_smile", "eye_right_smile", "brow_left_angle", "brow_right_angle")


def stage_prefix(spec: PoseSpec, morph: int, rotate: int) -> PoseSpec:
    """The spec of networks that read the first `morph` morph-stage and the first `rotate`
    rotate-stage parameters of `spec` (weights trained before later parameters existed)."""
    counts = {"morph": 0, "rotate": 0}
    keep = []
    for p in spec.params:
        if counts[p.stage] < {"morph": morph, "rotate": rotate}[p.stage]:
            keep.append(p)
        counts[p.stage] += 1
    if sum(1 for p in keep if p.stage == "morph") != morph or sum(1 for p in keep if p.stage == "rotate") != rotate:
        raise ValueError(f"the spec has {counts['morph']} morph and {counts['rotate']} rotate "
                         f"parameters; cannot take {morph} and {rotate}")
    names = {p.name for p in keep}
    return PoseSpec(tuple(p if p.pair is None or p.pair in names else PoseParam(**{**asdict(p), "pair": None})
                          for p in keep))

# The smallest change of a parameter worth drawing, as a share of its range: 0.4% is 0.24
# degrees of head turn, about an eighth of a pixel where the head moves most.
POSE_EPSILON = 4e-3
# Parameters that move few pixels over their whole range may change more before it shows.
# Across their ranges (95th percentile of DIS flow where the frame changes, shipped engine on
# the default, three procedural and two Live2D validation characters) a head turn moves up
# to 30 px, so POSE_EPSILON is 0.12 px; the irises move up to 12 px (x) and 7 px (y) and
# breathing lifts the chest up to 3 px, so these steps are 0.12, 0.14 and 0.19 px. At 0.4%
# the irises' tracking noise alone ran the morpher, and every frame of a breath the rotator.
COARSE_STEPS: dict[str, float] = {"iris_x": 1.0 / 100.0, "iris_y": 1.0 / 50.0, "breathing": 1.0 / 16.0}


def change_steps(spec: PoseSpec) -> np.ndarray:
    """Per parameter (spec order), the change, as a share of its range, too small to draw.
    A parameter added later (the expression parameters) takes POSE_EPSILON until measured."""
    return np.array([COARSE_STEPS.get(p.name, POSE_EPSILON) for p in spec.params], np.float32)


# The head turns: how far a head moves per degree differs between rigs (turn_amplitude.py).
HEAD_TURNS: tuple[str, ...] = ("head_yaw", "head_pitch", "head_roll")
