"""Frame a character to the input convention from its face box: scale so the face has the
convention's size, move it to the convention's place, pad or crop to 512x512.

The target is the face box of the bundled default character (which animates well and is
itself a convention image): face outline centre (256, 127.25), 95.18 px wide. The head box of
the convention (x 192-320, y 64-192) then holds the face with the hair around it. The face
locator gives the box this target needs: from the eyes and mouth by the convention's rule
when it is sure of them (app.intake.locate), else the face outline.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from app.intake.locate import TARGET_CX, TARGET_CY, TARGET_W, FaceBox
from engines.convention import CANVAS

__all__ = ["TARGET_CX", "TARGET_CY", "TARGET_W", "Framing", "framing_for", "close_to_target",
           "extend_body", "warp"]
# A 512x512 transparent image whose face is this close to the target is left untouched: the
# convention allows some spread (the engine trained on faces 81-105 px wide).
KEEP_SHIFT_PX, KEEP_SCALE = 10.0, 0.12


@dataclass
class Framing:
    scale: float  # input px -> output px
    tx: float  # output = input * scale + (tx, ty)
    ty: float

    def apply(self, x: float, y: float) -> tuple[float, float]:
        return x * self.scale + self.tx, y * self.scale + self.ty

    def face_out(self, face: FaceBox) -> FaceBox:
        cx, cy = self.apply(face.cx, face.cy)
        return FaceBox(cx, cy, face.w * self.scale, face.h * self.scale, face.score)


def framing_for(face: FaceBox) -> Framing:
    s = TARGET_W / face.w
    return Framing(s, TARGET_CX - s * face.cx, TARGET_CY - s * face.cy)


def close_to_target(face: FaceBox) -> bool:
    """The face box, or the face outline the locator saw, is already about at the target:
    a convention image, whether framed by its eyes and mouth (as the Live2D rigs) or by its
    outline (as the default character and the creator's characters)."""
    x0, y0, x1, y1 = face.outline_box
    return any(np.hypot(cx - TARGET_CX, cy - TARGET_CY) <= KEEP_SHIFT_PX
               and abs(np.log(w / TARGET_W)) <= np.log1p(KEEP_SCALE)
               for cx, cy, w in ((face.cx, face.cy, face.w), ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0)))


def extend_body(rgba: np.ndarray, fr: Framing) -> tuple[np.ndarray, int]:
    """If the character runs off the bottom edge and that edge would land inside the canvas,
    continue the body down by repeating the last row (a bust must reach the canvas bottom,
    as in every convention image). Returns the image and the rows added."""
    h = rgba.shape[0]
    bottom_out = h * fr.scale + fr.ty
    if bottom_out >= CANVAS or (rgba[-1, :, 3] > 128).mean() < 0.05:
        return rgba, 0
    rows = int(np.ceil((CANVAS - bottom_out) / fr.scale)) + 2
    return cv2.copyMakeBorder(rgba, 0, rows, 0, 0, cv2.BORDER_REPLICATE), rows


def warp(rgba: np.ndarray, fr: Framing) -> np.ndarray:
    """The 512x512 straight-alpha result of framing `rgba` (premultiplied resampling, so the
    transparent background never bleeds into the edges; a big reduction goes through area
    averaging first)."""
    src = cv2.cvtColor(rgba, cv2.COLOR_RGBA2mRGBA)
    s, tx, ty = fr.scale, fr.tx, fr.ty
    if s < 0.5:  # shrink by area to about the final size, then place precisely
        f = s * 1.5
        h, w = src.shape[:2]
        nw, nh = max(1, round(w * f)), max(1, round(h * f))
        src = cv2.resize(src, (nw, nh), interpolation=cv2.INTER_AREA)
        fx, fy = nw / w, nh / h
        # resized pixel j covers input x = (j + 0.5) / f - 0.5
        m = np.array([[s / fx, 0, tx + s * (0.5 / fx - 0.5)], [0, s / fy, ty + s * (0.5 / fy - 0.5)]])
    else:
        m = np.array([[s, 0, tx], [0, s, ty]])
    interp = cv2.INTER_CUBIC if s > 1.0 else cv2.INTER_LINEAR
    out = cv2.warpAffine(src, m, (CANVAS, CANVAS), flags=interp, borderMode=cv2.BORDER_CONSTANT)
    return cv2.cvtColor(out, cv2.COLOR_mRGBA2RGBA)
