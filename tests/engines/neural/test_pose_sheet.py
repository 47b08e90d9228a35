"""The README's pose sheet: real engine, the default character, expressions when readable."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engines.neural.pose_sheet import COLUMNS, EXPRESSION_COLUMNS, pose_sheet
from engines.neural.runtime import NeuralEngine

REPO = Path(__file__).resolve().parents[3]


def test_the_sheet_shows_a_cell_per_pose_the_weights_read() -> None:
    engine = NeuralEngine.load(threads=1)
    rgba = np.asarray(Image.open(REPO / "assets" / "default_character.png").convert("RGBA"))
    sheet = pose_sheet(engine, rgba, cell=64, generated=True)
    readable = [c for c in EXPRESSION_COLUMNS if set(c[1]) <= set(engine.pose_spec.names)]
    n = len(COLUMNS) + len(readable)
    assert sheet.shape == (2 * (64 + 22), (n + 1) // 2 * 64, 3)
    rest, closed = sheet[22:86, 0:64], sheet[22:86, 64:128]
    assert np.abs(rest.astype(int) - closed.astype(int)).max() > 40  # the eyes closed
