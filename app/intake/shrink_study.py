"""Which kernel should shrink a picture larger than the canvas? The engine decides.

    python -m app.intake.shrink_study [koharu haruto chitose izumi shizuku]

Each allowed Live2D character (never the held-out rig) is drawn at 4x the canvas and shrunk
to 512 px by each kernel; the engine animates every version at the eval's eyes, mouth and
head-yaw poses (as app.intake.prepare_eval does), and each is scored against the native
renders. Printed: per character and on average, the gap to the native convention image in
dB (0: the shrunk picture animates as well as the renderer's own drawing).
"""
from __future__ import annotations

import argparse
from typing import Callable

import cv2
import numpy as np

from app.intake.prepare_eval import DEFAULT_CHARACTERS, POSES, Subject, _mean_gap

Kernel = Callable[[np.ndarray, int], np.ndarray]


def _resize(rgba: np.ndarray, size: int, interp: int) -> np.ndarray:
    """Premultiplied, so the transparent background does not darken the edges."""
    pm = cv2.cvtColor(rgba, cv2.COLOR_RGBA2mRGBA)
    return cv2.resize(pm, (size, size), interpolation=interp)


def _blurred(sigma: float) -> Kernel:
    return lambda rgba, size: cv2.cvtColor(cv2.GaussianBlur(_resize(rgba, size, cv2.INTER_AREA), (0, 0), sigma),
                                           cv2.COLOR_mRGBA2RGBA)


def _sharpened(amount: float) -> Kernel:
    def shrink(rgba: np.ndarray, size: int) -> np.ndarray:
        small = _resize(rgba, size, cv2.INTER_AREA).astype(np.float32)
        out = small + amount * (small - cv2.GaussianBlur(small, (0, 0), 0.8))
        out[..., 3] = small[..., 3]
        out[..., :3] = np.clip(out[..., :3], 0.0, out[..., 3:4])  # stays premultiplied
        return cv2.cvtColor(out.round().astype(np.uint8), cv2.COLOR_mRGBA2RGBA)
    return shrink


KERNELS: dict[str, Kernel] = {
    "area": lambda rgba, size: cv2.cvtColor(_resize(rgba, size, cv2.INTER_AREA), cv2.COLOR_mRGBA2RGBA),
    "area+blur0.4": _blurred(0.4),
    "area+blur0.6": _blurred(0.6),
    "bilinear": lambda rgba, size: cv2.cvtColor(_resize(rgba, size, cv2.INTER_LINEAR), cv2.COLOR_mRGBA2RGBA),
    "lanczos": lambda rgba, size: cv2.cvtColor(_resize(rgba, size, cv2.INTER_LANCZOS4), cv2.COLOR_mRGBA2RGBA),
    "area+unsharp0.5": _sharpened(0.5),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.intake.shrink_study", description=__doc__.split("\n\n")[0])
    ap.add_argument("characters", nargs="*", default=list(DEFAULT_CHARACTERS))
    args = ap.parse_args(argv)
    from app.build import PipelineOptions, build_engine

    engine = build_engine(PipelineOptions(threads=1))
    gaps = {k: {c: [] for c in POSES} for k in KERNELS}
    for name in args.characters:
        subject = Subject(name, engine)
        big = subject.ch.render({}, size=4 * 512)
        images = {"native": subject.ch.render({}), **{k: f(big, 512) for k, f in KERNELS.items()}}
        scores = subject.scores(images, 1.0, 0.0, 0.0)
        for k in KERNELS:
            for c in POSES:
                gaps[k][c].append(_mean_gap([(scores[k][c], scores["native"][c])]))
        print(name, " | ".join(f"{k} " + "/".join(f"{gaps[k][c][-1]:+.2f}" for c in POSES) for k in KERNELS),
              flush=True)
    print("mean gap to the native convention image, dB (" + " / ".join(POSES) + ")")
    for k in KERNELS:
        print(f"  {k:<16}" + "  ".join(f"{c} {np.mean(gaps[k][c]):+.2f}" for c in POSES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
