"""Pose sampling for training triples: single-parameter extremes and random combinations.

Expression (morpher) parameters and head/body (rotator) parameters are sampled separately,
so a triple's middle image changes the face only.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from engines.posespec import DEFAULT_POSE_SPEC, PoseSpec

SINGLE_PROB = 0.35  # share of poses that move one control (or one L/R pair) only
EXPR_GROUPS: tuple[tuple[str, ...], ...] = (
    ("eye_left_open", "eye_right_open"), ("eye_left_open",), ("eye_right_open",),
    ("iris_x",), ("iris_y",), ("brow_left", "brow_right"), ("brow_left",), ("brow_right",),
    ("mouth_open",), ("mouth_form",),
    ("brow_left_angle", "brow_right_angle"), ("brow_left_angle",), ("brow_right_angle",),
)
HEAD_GROUPS: tuple[tuple[str, ...], ...] = (
    ("head_yaw",), ("head_pitch",), ("head_roll",), ("body_yaw",), ("breathing",),
)


def _extreme_or_uniform(rng: np.random.Generator, lo: float, hi: float, p_extreme: float = 0.6) -> float:
    if rng.random() < p_extreme:
        return float(lo if rng.random() < 0.5 else hi)
    return float(rng.uniform(lo, hi))


def _eye_value(rng: np.random.Generator) -> float:
    r = rng.random()
    if r < 0.3:
        return 0.0
    if r < 0.5:
        return 1.0
    return float(rng.uniform(0.0, 1.0))


def _single(rng, groups, supports, spec) -> dict[str, float]:
    groups = [g for g in groups if all(supports(n) for n in g)]
    if not groups:
        return {}
    g = groups[int(rng.integers(len(groups)))]
    p = spec[g[0]]
    v = _extreme_or_uniform(rng, p.lo, p.hi)
    return {n: v for n in g}


def _happy_eyes(rng: np.random.Generator) -> dict[str, float]:
    """Smiling lids, mostly as they close (where a rig's eye smile shows)."""
    smile = _extreme_or_uniform(rng, 0.0, 1.0)
    out = {"eye_left_smile": smile,
           "eye_right_smile": smile if rng.random() < 0.8 else _extreme_or_uniform(rng, 0.0, 1.0)}
    if rng.random() < 0.8:
        shut = 0.0 if rng.random() < 0.6 else float(rng.uniform(0.0, 0.5))
        out.update(eye_left_open=shut, eye_right_open=shut)
    return out


def sample_expression(rng: np.random.Generator, supports: Callable[[str], bool],
                      spec: PoseSpec = DEFAULT_POSE_SPEC) -> dict[str, float]:
    """Morph-stage values only (brows, eyes, iris, mouth)."""
    if rng.random() < SINGLE_PROB:
        if supports("eye_left_smile") and rng.random() < 0.15:
            return {k: v for k, v in _happy_eyes(rng).items() if supports(k)}
        return _single(rng, EXPR_GROUPS, supports, spec)
    out: dict[str, float] = {}
    if rng.random() < 0.7:
        left = _eye_value(rng)
        right = left if rng.random() < 0.6 else _eye_value(rng)
        out.update(eye_left_open=left, eye_right_open=right)
    if rng.random() < 0.6:
        out.update(iris_x=float(rng.uniform(-1, 1)), iris_y=float(rng.uniform(-1, 1)))
    if rng.random() < 0.6:
        b = float(rng.uniform(-1, 1))
        out.update(brow_left=b, brow_right=b if rng.random() < 0.6 else float(rng.uniform(-1, 1)))
    if rng.random() < 0.6:
        out["mouth_open"] = float(rng.uniform(0, 1))
    if rng.random() < 0.6:
        out["mouth_form"] = float(rng.uniform(-1, 1))
    if supports("eye_left_smile") and rng.random() < 0.3:
        out.update(_happy_eyes(rng))
    if supports("brow_left_angle") and rng.random() < 0.4:
        a = float(rng.uniform(-1, 1))
        out.update(brow_left_angle=a, brow_right_angle=a if rng.random() < 0.7 else float(rng.uniform(-1, 1)))
    return {k: v for k, v in out.items() if supports(k)}


def sample_head(rng: np.random.Generator, supports: Callable[[str], bool],
                spec: PoseSpec = DEFAULT_POSE_SPEC) -> dict[str, float]:
    """Rotate-stage values only (head yaw/pitch/roll, body yaw, breathing)."""
    if rng.random() < SINGLE_PROB:
        return _single(rng, HEAD_GROUPS, supports, spec)
    out: dict[str, float] = {}
    for name, p_use in (("head_yaw", 0.85), ("head_pitch", 0.75), ("head_roll", 0.6),
                        ("body_yaw", 0.5), ("breathing", 0.5)):
        if rng.random() < p_use and supports(name):
            p = spec[name]
            out[name] = float(rng.uniform(p.lo, p.hi))
    return out
