"""The shrink kernels compared by app.intake.shrink_study keep size, transparency and edges."""
from __future__ import annotations

import cv2
import numpy as np

from app.intake.shrink_study import KERNELS


def test_every_kernel_shrinks_to_the_canvas_without_dark_fringes() -> None:
    big = np.zeros((2048, 2048, 4), np.uint8)
    cv2.circle(big, (1024, 700), 400, (250, 240, 230, 255), -1)  # hard edge: the kernels make the soft one
    for name, shrink in KERNELS.items():
        out = shrink(big, 512)
        assert out.shape == (512, 512, 4) and out.dtype == np.uint8, name
        assert out[0, 0, 3] == 0 and out[175, 256, 3] == 255, name
        edge = (out[..., 3] > 40) & (out[..., 3] < 220)
        assert edge.any(), name
        # straight alpha: a half-covered edge pixel keeps the disc's colour, not a darker one
        assert out[edge][:, 0].mean() > 200, name
