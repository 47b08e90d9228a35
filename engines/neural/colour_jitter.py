"""Random hue turns of stored training rows: new colourings out of few characters.

With about a dozen Live2D faces, each face's colours (hair, eyes, skin) can tell a network
which rig it is looking at, and with that how that rig moves. Turning the hue of a whole
row - rest, expression and posed images and face crops, all by one angle - keeps every
image pair consistent while the palette no longer names the rig.

The turn is a rotation of RGB about the grey axis: greys, outlines and alpha stay as they
are, and a turn of 120 degrees is exactly the channel cycle R -> G -> B.
"""
from __future__ import annotations

import cv2
import numpy as np

from engines.neural.shape_warp import CROP_KEYS, FULL_KEYS


def hue_matrix(angle: float) -> np.ndarray:
    """3x3 rotation of RGB colour vectors by `angle` radians about the grey axis (Rodrigues)."""
    k = np.full(3, 1.0 / np.sqrt(3.0))
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    c, s = np.cos(angle), np.sin(angle)
    return (c * np.eye(3) + s * cross + (1 - c) * np.outer(k, k)).astype(np.float32)


def turn_hue(img: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(H,W,4) uint8 straight-alpha image with its colour turned by matrix m (alpha kept).

    Straight alpha, so the colour of every pixel turns alike whatever its coverage;
    cv2.transform rounds and saturates to uint8."""
    out = img.copy()
    out[..., :3] = cv2.transform(np.ascontiguousarray(img[..., :3]), m)
    return out


def jitter_batch(batch: dict[str, np.ndarray], rng: np.random.Generator, prob: float,
                 keys: tuple[str, ...] = FULL_KEYS + CROP_KEYS) -> dict[str, np.ndarray]:
    """A copy of `batch` with each row's hue turned by a uniform random angle with
    probability `prob`, one angle for all of the row's images."""
    if prob <= 0.0:
        return batch
    keys = [k for k in keys if k in batch]
    out = {k: v.copy() if k in keys else v for k, v in batch.items()}
    for i in range(len(batch["pose"])):
        if rng.random() >= prob:
            continue
        m = hue_matrix(rng.uniform(0.0, 2.0 * np.pi))
        for k in keys:
            out[k][i] = turn_hue(batch[k][i], m)
    return out
