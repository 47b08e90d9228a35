"""A contact sheet of one character posed by the shipped engine (for the README).

    python -m engines.neural.pose_sheet [--character PNG] --out docs/default_character_poses.png
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from engines.identity_file import identity_beside
from engines.neural.compose import over_grey
from engines.neural.runtime import NeuralEngine

COLUMNS: list[tuple[str, dict[str, float]]] = [
    ("rest", {}),
    ("eyes closed", {"eye_left_open": 0.0, "eye_right_open": 0.0}),
    ("wink", {"eye_left_open": 0.0}),
    ("mouth open", {"mouth_open": 1.0}),
    ("smile", {"mouth_form": 1.0, "mouth_open": 0.3}),
    ("iris", {"iris_x": 1.0}),
    ("brows up", {"brow_left": 1.0, "brow_right": 1.0}),
    ("yaw -", {"head_yaw": -25.0}),
    ("yaw +", {"head_yaw": 25.0}),
    ("pitch", {"head_pitch": 20.0}),
    ("roll", {"head_roll": 20.0}),
    ("body", {"body_yaw": 1.0, "breathing": 1.0}),
]
# Shown when the weights read them (weights made before the expression parameters do not).
EXPRESSION_COLUMNS: list[tuple[str, dict[str, float]]] = [
    ("happy eyes", {"eye_left_open": 0.0, "eye_right_open": 0.0, "eye_left_smile": 1.0, "eye_right_smile": 1.0}),
    ("angry brows", {"brow_left_angle": -1.0, "brow_right_angle": -1.0, "brow_left": -0.5, "brow_right": -0.5}),
    ("troubled brows", {"brow_left_angle": 1.0, "brow_right_angle": 1.0}),
]


def pose_sheet(engine: NeuralEngine, rgba: np.ndarray, cell: int = 192, generated: bool = False) -> np.ndarray:
    prepared = engine.prepare(rgba, generated=generated)
    cells = []
    readable = [c for c in EXPRESSION_COLUMNS if set(c[1]) <= set(engine.pose_spec.names)]
    for label, pose in COLUMNS + readable:
        out = engine.render(prepared, pose)
        rgb = (over_grey(out)[0:320, 96:416] * 255).astype(np.uint8)  # head and shoulders
        rgb = cv2.resize(rgb, (cell, cell), interpolation=cv2.INTER_AREA)
        band = np.full((22, cell, 3), 255, np.uint8)
        cv2.putText(band, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        cells.append(np.concatenate([band, rgb], 0))
    if len(cells) % 2:
        cells.append(np.full_like(cells[0], 255))
    half = len(cells) // 2
    return np.concatenate([np.concatenate(cells[:half], 1), np.concatenate(cells[half:], 1)], 0)


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    repo = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(prog="python -m engines.neural.pose_sheet")
    ap.add_argument("--character", type=Path, default=repo / "assets" / "default_character.png")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--weights", type=Path, default=None, help="default: the shipped weights")
    args = ap.parse_args(argv)
    rgba = np.asarray(Image.open(args.character).convert("RGBA"))
    sheet = pose_sheet(NeuralEngine.load(args.weights, threads=1), rgba, generated=identity_beside(args.character) is not None)
    Image.fromarray(sheet).quantize(256).save(args.out, optimize=True)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
