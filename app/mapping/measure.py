"""Measurements of the mapper's smoothing on synthetic FaceState sequences (used by the
tests and by `omokage bench`)."""
from __future__ import annotations

import math
import random
from typing import Callable

from engines.posespec import DEFAULT_POSE_SPEC, PoseSpec

from app.mapping.config import MapperConfig
from app.mapping.mapper import Mapper
from app.tracking.face_state import FaceState

NEUTRAL_BLENDSHAPES = {"eyeBlinkLeft": 0.08, "eyeBlinkRight": 0.08}

# How a synthetic input value enters a FaceState, per pose parameter that can be driven.
_DRIVERS: dict[str, Callable[[FaceState, float], None]] = {
    "head_yaw": lambda f, v: setattr(f, "yaw", v),
    "head_pitch": lambda f, v: setattr(f, "pitch", v),
    "head_roll": lambda f, v: setattr(f, "roll", v),
    "mouth_open": lambda f, v: f.blendshapes.__setitem__("jawOpen", v),
}


def synthetic_face(t: float, **values: float) -> FaceState:
    """A tracked FaceState at time t; values by pose parameter name (see _DRIVERS)."""
    f = FaceState(blendshapes=dict(NEUTRAL_BLENDSHAPES), confidence=1.0, capture_ts=t,
                  tracked=True)
    for name, v in values.items():
        if name not in _DRIVERS:
            raise ValueError(f"cannot drive {name!r}; drivable: {', '.join(_DRIVERS)}")
        _DRIVERS[name](f, v)
    return f


def run_sequence(mapper: Mapper, param: str, inputs: list[float], fps: float,
                 t0: float = 0.0) -> list[float]:
    """Feed one input per frame; return the mapper's output for `param` per frame."""
    out = []
    for i, v in enumerate(inputs):
        t = t0 + i / fps
        out.append(mapper.update(synthetic_face(t, **{param: v}), t)[param])
    return out


def _settled_mapper(config: MapperConfig | None, spec: PoseSpec, param: str, start: float,
                    fps: float) -> tuple[Mapper, float]:
    m = Mapper(spec, config)
    n = int(2 * fps)  # long enough to fade fully in and settle the filters
    run_sequence(m, param, [start] * n, fps)
    return m, n / fps


def _crossing(ys: list[float], level: float) -> float:
    """Fractional index where ys first reaches `level` (ys rising)."""
    for i in range(1, len(ys)):
        if ys[i] >= level > ys[i - 1]:
            return i - 1 + (level - ys[i - 1]) / (ys[i] - ys[i - 1])
    return float("inf")


def smoothing_lag_frames(config: MapperConfig | None = None, fps: float = 30.0,
                         spec: PoseSpec = DEFAULT_POSE_SPEC, param: str = "head_yaw",
                         amplitude: float = 20.0, duration: float = 0.4) -> float:
    """Added delay (frames at `fps`) of a head turn through the smoothing: a minimum-jerk
    turn of `amplitude` degrees in `duration` seconds (a quick, real head turn); the delay
    is measured where the output passes the middle of the turn."""
    m, t0 = _settled_mapper(config, spec, param, 0.0, fps)
    n = int(round((duration + 1.0) * fps))
    xs = []
    for i in range(n):
        u = min(max(i / fps / duration, 0.0), 1.0)
        xs.append(amplitude * (10 * u**3 - 15 * u**4 + 6 * u**5))
    ys = run_sequence(m, param, xs, fps, t0)
    final = ys[-1]
    # Where the unsmoothed mapping passes half of the final value: the turn's own midpoint.
    return _crossing(ys, 0.5 * final) - _crossing(xs, 0.5 * amplitude)


def step_settle_frames(config: MapperConfig | None = None, fps: float = 30.0,
                       spec: PoseSpec = DEFAULT_POSE_SPEC, param: str = "head_yaw",
                       step: float = 10.0, within: float = 0.1) -> int:
    """Frames after a step input until the output stays within `within` of the step."""
    m, t0 = _settled_mapper(config, spec, param, 0.0, fps)
    ys = run_sequence(m, param, [step] * int(2 * fps), fps, t0)
    final = ys[-1]
    for i in range(len(ys)):
        if all(abs(y - final) <= within * abs(final) for y in ys[i:]):
            return i
    return len(ys)


def jitter_factor(config: MapperConfig | None = None, fps: float = 30.0,
                  spec: PoseSpec = DEFAULT_POSE_SPEC, param: str = "head_yaw",
                  level: float = 10.0, noise: float = 0.5, frames: int = 300,
                  seed: int = 0) -> float:
    """How many times smaller the output's frame-to-frame jitter is than the input's, for a
    still value `level` with Gaussian noise of std `noise` (the tracker's own shimmer)."""
    m, t0 = _settled_mapper(config, spec, param, level, fps)
    rng = random.Random(seed)
    xs = [level + rng.gauss(0.0, noise) for _ in range(frames)]
    ys = run_sequence(m, param, xs, fps, t0)
    gain = m.config.channel(param).gain

    def std(v: list[float]) -> float:
        mu = sum(v) / len(v)
        return math.sqrt(sum((a - mu) ** 2 for a in v) / len(v))

    return gain * std(xs) / max(std(ys), 1e-12)
