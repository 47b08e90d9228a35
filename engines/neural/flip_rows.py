"""Random left-right flips of stored training rows, with the pose mirrored to match.

The Live2D rows are flipped half the time when they are rendered; the procedural ones never
are, and their drawing has sides (the eye highlights keep the light from the upper left).
So a morpher run on a flipped procedural face meets a face it has never seen, which is why
the runtime's mirror ensemble covers the rotator only. Flipping rows in training lets both
stages see every source both ways round. The true flow, when a row carries one, is mirrored
with the images (x offsets negated).
"""
from __future__ import annotations

import numpy as np

from engines.convention import CANVAS, MORPH_BOX
from engines.datagen.dataset import mirror_flow
from engines.neural.shape_warp import CROP_KEYS, FULL_KEYS
from engines.posespec import DEFAULT_POSE_SPEC

# The face crop must flip onto itself for a flipped crop to be the crop of the flipped image.
assert MORPH_BOX[0] + MORPH_BOX[2] == CANVAS


def flip_batch(batch: dict[str, np.ndarray], rng: np.random.Generator, prob: float,
               keys: tuple[str, ...] = FULL_KEYS + CROP_KEYS) -> dict[str, np.ndarray]:
    """A copy of `batch` with each row flipped left-right with probability `prob`: all of
    the row's images and its pose."""
    if prob <= 0.0:
        return batch
    rows = rng.random(len(batch["pose"])) < prob
    out = dict(batch)
    for k in [k for k in keys if k in batch]:
        out[k] = batch[k].copy()
        out[k][rows] = batch[k][rows, :, ::-1]
    if "flow" in batch:
        out["flow"], out["flow_mask"] = batch["flow"].copy(), batch["flow_mask"].copy()
        out["flow"][rows], out["flow_mask"][rows] = mirror_flow(batch["flow"][rows], batch["flow_mask"][rows])
    out["pose"] = batch["pose"].copy()
    out["pose"][rows] = DEFAULT_POSE_SPEC.mirrored_vectors(batch["pose"][rows])
    return out
