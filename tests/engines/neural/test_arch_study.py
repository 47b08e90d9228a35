"""The happy-eye bend of the arch study: a closed lid's line rises in the middle of its box."""
from __future__ import annotations

import numpy as np

from engines.neural.arch_study import bend, eye_boxes


def _lid(img: np.ndarray, column: int) -> float:
    """Row of the darkest pixel in a column."""
    return float(np.argmin(img[:, column, 0]))


def test_bend_raises_the_middle_of_the_lid_and_keeps_its_ends():
    img = np.full((512, 512, 4), 255, np.uint8)
    img[120, 220:300] = (0, 0, 0, 255)  # a closed lid: a flat line
    box = (220.0, 300.0, 110.0, 130.0)  # 20 px high
    assert np.array_equal(bend(img, [box], [1.0], 0.0), img)
    out = bend(img, [box], [1.0], 0.5)
    assert 110.0 <= _lid(out, 260) <= 112.0  # the middle up by about half the box height
    assert _lid(out, 221) >= 119.0  # the ends stay
    assert np.array_equal(bend(img, [None], [1.0], 0.5), img)  # no eye found: unchanged


def test_eye_boxes_are_where_closing_changes_the_face():
    rest = np.zeros((512, 512, 4), np.uint8)
    closed = rest.copy()
    closed[120:130, 215:240] = 200  # image-left eye, inside the morpher's crop
    closed[118:131, 270:300] = 200  # image-right eye
    left, right = eye_boxes(rest, closed)
    assert 214 <= left[0] <= 216 and 238 <= left[1] <= 240 and 119 <= left[2] <= 121
    assert 269 <= right[0] <= 271 and 298 <= right[1] <= 300
