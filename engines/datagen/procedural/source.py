"""ProceduralSource: training triples of procedural characters for the shared dataset writer."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np

from engines.datagen.dataset import Triple
from engines.datagen.procedural.flow import backward_flow
from engines.datagen.procedural.geometry import Turning, sample_turning
from engines.datagen.procedural.identity import Identity, identity_for
from engines.datagen.procedural.look import sample_look
from engines.datagen.procedural.render import draw_character
from engines.posespec import DEFAULT_POSE_SPEC, EXPRESSIONS, PoseSpec

VAL_OFFSET = 900_000  # val ids start here, far from every train id


def _extreme(rng: np.random.Generator, lo: float, hi: float, rest: float) -> float:
    """A value far from rest (an end of the range) most of the time, else anywhere."""
    if rng.random() < 0.6:
        ends = [v for v in (lo, hi) if v != rest]
        return float(ends[int(rng.integers(len(ends)))])
    return float(rng.uniform(lo, hi))


def sample_expression(rng: np.random.Generator, spec: PoseSpec = DEFAULT_POSE_SPEC,
                      expressions: bool = False) -> dict[str, float]:
    """Face-only pose: one parameter at an extreme (30%) or a random combination (70%).
    expressions: also the expression parameters (smiling lids, brow angles); without it they
    stay at rest and the random stream is the one datasets were built with before them."""
    names = [n for n in spec.stage_names("morph") if expressions or n not in EXPRESSIONS]
    pose: dict[str, float] = {}
    if rng.random() < 0.3:
        n = names[int(rng.integers(len(names)))]
        p = spec[n]
        pose[n] = _extreme(rng, p.lo, p.hi, p.default)
        if p.pair and rng.random() < 0.5:  # both sides together (a blink, both brows)
            pose[p.pair] = pose[n]
        return pose
    for n in names:
        if rng.random() < 0.55:
            p = spec[n]
            if p.group == "eyes":
                pose[n] = 0.0 if rng.random() < 0.35 else float(rng.uniform(0, 1))
            elif n == "mouth_open":
                pose[n] = float(rng.uniform(0, 1) ** 0.8)
            else:
                pose[n] = float(rng.uniform(p.lo, p.hi))
    if "eye_left_open" in pose and rng.random() < 0.5:
        pose["eye_right_open"] = pose["eye_left_open"]  # most blinks are both eyes
    if expressions and {"eye_left_smile", "eye_right_smile"} & set(pose) and rng.random() < 0.7:
        shut = 0.0 if rng.random() < 0.6 else float(rng.uniform(0.0, 0.5))  # a smile shows as eyes close
        pose.update(eye_left_open=shut, eye_right_open=shut)
    return pose


def sample_head(rng: np.random.Generator, spec: PoseSpec = DEFAULT_POSE_SPEC) -> dict[str, float]:
    """Head/body-only pose: one parameter at an extreme (30%) or a random combination (70%)."""
    names = spec.stage_names("rotate")
    if rng.random() < 0.3:
        n = names[int(rng.integers(len(names)))]
        p = spec[n]
        return {n: _extreme(rng, p.lo, p.hi, p.default)}
    pose = {}
    for n in names:
        if rng.random() < 0.7:
            p = spec[n]
            pose[n] = float(rng.uniform(p.lo, p.hi))
    return pose


class ProceduralSource:
    """Characters "proc-NNNNNN": train ids 0..n_train-1, val ids from 900000 on.

    Each character is drawn in its own style (identity.look). atlas=True lets a look fill parts
    with detail from the Live2D training rigs' atlases (engines.datagen.procedural.texture;
    they must be in the cache: call ensure_atlases() first). restyle=True draws a new random
    look for every triple (the same look for its three images), so one character's shapes
    are seen in many styles. flow=True also stores each triple's true backward flow and its
    visibility (engines.datagen.procedural.flow), as the Live2D shards do. turnings=True
    draws every triple with a random way of turning (geometry.Turning: how far the head
    moves per degree, the parallax between hair layers and face, foreshortening, the roll
    pivot), so the rotator sees many ways of turning, as between artists.
    """

    name = "procedural"

    def __init__(self, n_train: int = 100_000, n_val: int = 1_000, spec: PoseSpec = DEFAULT_POSE_SPEC,
                 atlas: bool = False, restyle: bool = False, flow: bool = False, turnings: bool = False,
                 expressions: bool = False):
        if n_train > VAL_OFFSET:
            raise ValueError(f"n_train must be at most {VAL_OFFSET} so train and val ids stay disjoint")
        self.n_train, self.n_val, self.spec = n_train, n_val, spec
        self.atlas, self.restyle, self.flow, self.turnings = atlas, restyle, flow, turnings
        self.expressions = expressions

    def identity(self, character: str) -> Identity:
        """The identity of `character` as this source draws it (before any restyling)."""
        return _identity(character, self.atlas)

    def characters(self, split: str) -> list[str]:
        if split == "train":
            return [f"proc-{i:06d}" for i in range(self.n_train)]
        if split == "val":
            return [f"proc-{VAL_OFFSET + i:06d}" for i in range(self.n_val)]
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")

    def triple_identity(self, character: str, rng: np.random.Generator) -> Identity:
        """The identity a triple draws with: the character's own, or (restyle) the character in
        a look drawn from `rng`. One identity, so one look, for all three images."""
        ident = _identity(character, self.atlas)
        if self.restyle:
            ident = replace(ident)  # a copy: the look may change its line colour
            ident.look = sample_look(rng, ident, self.atlas)
        return ident

    def make_triple(self, character: str, rng: np.random.Generator) -> Triple:
        ident = self.triple_identity(character, rng)
        expr_pose = sample_expression(rng, self.spec, self.expressions)
        head_pose = sample_head(rng, self.spec)
        turning = sample_turning(rng) if self.turnings else None
        return self.draw_triple(ident, character, expr_pose, head_pose, turning)

    def draw_triple(self, ident: Identity, character: str, expr_pose: dict[str, float],
                    head_pose: dict[str, float], turning: Turning | None = None) -> Triple:
        """Rest, expression and posed images of one identity: they differ by the pose alone."""
        full = self.spec.clamp({**expr_pose, **head_pose})
        flow, mask = backward_flow(ident, full, turning) if self.flow else (None, None)
        return Triple(
            rest=draw_character(ident, {}, turning),
            expr=draw_character(ident, expr_pose, turning),
            posed=draw_character(ident, full, turning),
            pose=full,
            character=character,
            flow=flow,
            flow_mask=mask,
        )


@lru_cache(maxsize=256)
def _identity(character: str, atlas: bool = False) -> Identity:
    return identity_for(character, atlas)


def ensure_atlases() -> int:
    """Fetch the training rigs into the cache (npm, at data-build time) and load their atlas
    detail; the number of detail tiles. Raises when none could be read."""
    from engines.datagen.live2d.models import HUMAN_TRAIN, fetch_model
    from engines.datagen.procedural.texture import atlas_bank

    for name in HUMAN_TRAIN:
        fetch_model(name)
    atlas_bank.cache_clear()
    n = len(atlas_bank())
    if n == 0:
        raise RuntimeError("no atlas detail could be read from the training rigs in the cache; "
                           "check OMOKAGE_CACHE and fetch them with python -m engines.datagen.live2d build")
    return n
