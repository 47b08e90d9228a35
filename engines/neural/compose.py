"""Image arithmetic shared by the runtime, training and evaluation (numpy, no torch)."""
from __future__ import annotations

import numpy as np

from engines.posespec import PoseSpec


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """uint8 straight-alpha HxWx4 -> float32 premultiplied in [0, 1].

    Warping and blending premultiplied colour keeps transparent pixels from bleeding
    their (meaningless) colour into edges, which is what causes halos."""
    x = rgba.astype(np.float32) * (1.0 / 255.0)
    x[..., :3] *= x[..., 3:4]
    return x


def unpremultiply(x: np.ndarray) -> np.ndarray:
    """float premultiplied HxWx4 in [0, 1] -> uint8 straight alpha."""
    a = np.clip(x[..., 3:4], 0.0, 1.0)
    rgb = np.where(a > 1.0 / 512.0, x[..., :3] / np.maximum(a, 1e-6), 0.0)
    out = np.concatenate([np.clip(rgb, 0.0, 1.0), a], -1)
    return (out * 255.0 + 0.5).astype(np.uint8)


def stage_vectors(spec: PoseSpec, poses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, P) raw pose values in spec order -> normalised (morph, rotate) network inputs
    (PoseParam.network_input)."""
    lo = np.array([p.lo for p in spec.params], np.float32)
    hi = np.array([p.hi for p in spec.params], np.float32)
    shift = np.array([p.input_shift for p in spec.params], np.float32)
    norm = 2.0 * (np.asarray(poses, np.float32) - lo) / (hi - lo) - 1.0 - shift
    morph = [i for i, p in enumerate(spec.params) if p.stage == "morph"]
    rot = [i for i, p in enumerate(spec.params) if p.stage == "rotate"]
    return norm[:, morph], norm[:, rot]


def over_grey(rgba: np.ndarray, grey: float = 0.5) -> np.ndarray:
    """Composite straight-alpha uint8 RGBA over mid grey -> float RGB in [0, 1]
    (so that alpha errors count in the metrics)."""
    x = rgba.astype(np.float32) / 255.0
    return x[..., :3] * x[..., 3:4] + grey * (1.0 - x[..., 3:4])
