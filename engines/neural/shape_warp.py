"""Random smooth warps of stored training rows: new face shapes out of few characters.

A Live2D training set holds about a dozen faces, so the networks can learn each face's own
eyes, mouth and turn by heart instead of what eyes, mouths and turns do. One smooth warp,
applied alike to a row's rest, expression and posed images and to its face crops, gives the
row a new face shape (eye spacing, face width, jaw) and keeps every image pair consistent:
the change from rest to target is the warped version of the true one.
"""
from __future__ import annotations

import cv2
import numpy as np

from engines.convention import CANVAS, MORPH_BOX
from engines.neural.compose import premultiply, unpremultiply

FULL_KEYS = ("rest", "expr", "posed")  # stored at a fraction of CANVAS, whole image
CROP_KEYS = ("rest_crop", "expr_crop")  # MORPH_BOX of the CANVAS image, full resolution
GRID = 6  # control points per side over the canvas: about 100 px apart at 512


def random_field(rng: np.random.Generator, sigma: float, limit: float) -> np.ndarray:
    """(CANVAS, CANVAS, 2) smooth displacement in canvas pixels (x, y)."""
    ctrl = rng.normal(0.0, sigma, (GRID, GRID, 2)).astype(np.float32)
    # Cubic interpolation overshoots its control points, so the limit applies afterwards.
    return np.clip(cv2.resize(ctrl, (CANVAS, CANVAS), interpolation=cv2.INTER_CUBIC), -limit, limit)


def warp_row(row: dict[str, np.ndarray], field: np.ndarray) -> dict[str, np.ndarray]:
    """The row's images resampled through one canvas displacement field (output -> source)."""
    out = dict(row)
    for key in FULL_KEYS + CROP_KEYS:
        if key not in row:
            continue
        # Which canvas square the image shows: the whole canvas, or the face crop's box.
        x0, y0, x1, y1 = (0, 0, CANVAS, CANVAS) if key in FULL_KEYS else MORPH_BOX
        res = row[key].shape[0]
        step = (x1 - x0) // res  # image pixel (u, v) sits at canvas (x0 + u * step, y0 + v * step)
        # The field is smooth: sampling it is as good as averaging it.
        d = field[y0 + step // 2:y1:step, x0 + step // 2:x1:step] / step
        ys, xs = np.mgrid[0:res, 0:res].astype(np.float32)
        # Premultiplied, so transparent pixels lend no colour to the edges they are mixed into.
        warped = cv2.remap(premultiply(row[key]), xs + d[..., 0], ys + d[..., 1], cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        out[key] = unpremultiply(warped)
    return out


def warp_batch(batch: dict[str, np.ndarray], rng: np.random.Generator, prob: float,
               keys: tuple[str, ...] = FULL_KEYS + CROP_KEYS, sigma: float = 5.0) -> dict[str, np.ndarray]:
    """A copy of `batch` with each row warped with probability `prob` (sigma: canvas px; the
    field is clipped at 2.4 sigma, which cuts only the rare far tail).

    keys: the images to warp (a network that reads only some of them need not pay for all).
    """
    if prob <= 0.0:
        return batch
    n = len(batch["pose"])
    keys = [k for k in keys if k in batch]
    out = {k: v.copy() if k in keys else v for k, v in batch.items()}
    for i in range(n):
        if rng.random() >= prob:
            continue
        row = warp_row({k: batch[k][i] for k in keys}, random_field(rng, sigma, 2.4 * sigma))
        for k in keys:
            out[k][i] = row[k]
        if "flow_mask" in out:  # the stored flow no longer describes the warped images
            if out["flow_mask"] is batch["flow_mask"]:
                out["flow_mask"] = batch["flow_mask"].copy()
            out["flow_mask"][i] = 0
    return out
