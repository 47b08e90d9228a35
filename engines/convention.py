"""The input image convention (THA3's): 512x512 RGBA, transparent background,
one upright character facing the viewer, head inside the 128x128 box x 192-320, y 64-192."""
from __future__ import annotations

CANVAS = 512
HEAD_BOX = (192, 64, 320, 192)  # x0, y0, x1, y1 at 512x512
# The face morpher works on this crop of the 512 image at native resolution.
MORPH_BOX = HEAD_BOX
# Metric region of the evaluation (issue 4): x 128-384, y 0-256.
EVAL_HEAD_REGION = (128, 0, 384, 256)

# Where the face lands in the head box, from the eyes and mouth: the rule that frames the
# Live2D rigs the engine learned from (engines.datagen.live2d.framing), so app.intake frames
# any picture by it too. Anime heads keep fairly stable proportions relative to the eye line
# and the eye-to-mouth distance (measured on THA-style portraits, tuned on a contact sheet).
EYE_LINE_Y = 0.60  # eye line, as a fraction of the head box height from its top
EYE_MOUTH = 0.27  # eye line to mouth centre, as a fraction of the head box height
# Outer eye corners as a fraction of the head box width, at most: big-eyed (chibi) faces
# have a short eye-to-mouth distance for their head size, so the eye span limits the scale.
EYE_SPAN = 0.58

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def plausible_mouth(eyes: Box, mouth: Box | None) -> bool:
    """A mouth below the eyes, between them and narrower than them (some rigs move more)."""
    if mouth is None:
        return False
    ew = eyes[2] - eyes[0]
    mx, my = (mouth[0] + mouth[2]) / 2.0, (mouth[1] + mouth[3]) / 2.0
    ey = (eyes[1] + eyes[3]) / 2.0
    return (eyes[0] < mx < eyes[2] and mouth[2] - mouth[0] < ew and 0.1 * ew < my - ey < 1.2 * ew)


def face_framing(eyes: Box, mouth: Box | None) -> tuple[float, float, float]:
    """(scale, tx, ty) taking a picture whose eyes and mouth boxes (what closing the eyes and
    opening the mouth change; pixel edges, i.e. pixel i spans i..i+1) are `eyes` and `mouth`
    to the 512 canvas: x * scale + tx. The eyes centred, on the eye line; scaled by the eye to
    mouth distance, or by the eye span when that is smaller or the mouth is implausible."""
    hx0, hy0, hx1, _ = HEAD_BOX
    box = hx1 - hx0
    ex = (eyes[0] + eyes[2]) / 2.0
    ey = (eyes[1] + eyes[3]) / 2.0
    ew = max(eyes[2] - eyes[0], 1e-6)
    scale = EYE_SPAN * box / ew
    if plausible_mouth(eyes, mouth):
        d = (mouth[1] + mouth[3]) / 2.0 - ey
        scale = min(EYE_MOUTH * box / d, scale)
    return scale, (hx0 + hx1) / 2.0 - ex * scale, hy0 + EYE_LINE_Y * box - ey * scale
