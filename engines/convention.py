"""The input image convention (THA3's): 512x512 RGBA, transparent background,
one upright character facing the viewer, head inside the 128x128 box x 192-320, y 64-192."""
from __future__ import annotations

CANVAS = 512
HEAD_BOX = (192, 64, 320, 192)  # x0, y0, x1, y1 at 512x512
# The face morpher works on this crop of the 512 image at native resolution.
MORPH_BOX = HEAD_BOX
# Metric region of the evaluation (issue 4): x 128-384, y 0-256.
EVAL_HEAD_REGION = (128, 0, 384, 256)
