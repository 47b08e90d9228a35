"""Hand edits of a picture's background before it is framed: an erase brush (alpha 0) and a
restore brush (the original pixel back, colour and alpha), stroke by stroke, with undo.

The head-box editor (ui/head_box_dialog.py) turns mouse drags into strokes; the edited picture
then goes through app.intake.prepare_image like any other. Kept free of Qt so the same edits
can be scripted and tested on arrays.
"""
from __future__ import annotations

import cv2
import numpy as np

ERASE, RESTORE = "erase", "restore"
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (end exclusive), picture pixels


class PictureEdits:
    """`rgba` is edited in place (a copy of the picture given); `original` is what the
    restore brush brings back: the picture as decoded, before any background was removed."""

    def __init__(self, picture: np.ndarray, original: np.ndarray | None = None) -> None:
        if original is not None and original.shape[:2] != picture.shape[:2]:
            raise ValueError(f"the original picture is {original.shape[1]}x{original.shape[0]}"
                             f", the edited one {picture.shape[1]}x{picture.shape[0]}; "
                             "give the same picture before and after background removal")
        self.rgba = np.ascontiguousarray(picture, dtype=np.uint8).copy()
        self.original = self.rgba.copy() if original is None else np.ascontiguousarray(original)
        # per stroke: the (box, pixels before) of each segment, undone in reverse order
        self._strokes: list[list[tuple[Box, np.ndarray]]] = []
        self._mode: str | None = None
        self._last: tuple[float, float] | None = None
        self._radius = 1.0

    @property
    def can_undo(self) -> bool:
        return bool(self._strokes)

    def begin(self, mode: str, x: float, y: float, radius: float) -> Box | None:
        """Start a stroke of `mode` (ERASE or RESTORE) with a round brush of `radius` picture
        px at (x, y); returns the box of pixels changed (None: outside the picture)."""
        if mode not in (ERASE, RESTORE):
            raise ValueError(f"unknown brush {mode!r}; use {ERASE!r} or {RESTORE!r}")
        self._mode, self._radius, self._last = mode, max(0.5, float(radius)), (x, y)
        self._strokes.append([])
        return self._paint(x, y, x, y)

    def move(self, x: float, y: float) -> Box | None:
        """Continue the stroke to (x, y): every pixel within the radius of the segment from
        the last point is painted, however fast the mouse moved."""
        if self._mode is None:
            return None
        x0, y0 = self._last
        self._last = (x, y)
        return self._paint(x0, y0, x, y)

    def end(self) -> None:
        if self._mode is not None and self._strokes and not self._strokes[-1]:
            self._strokes.pop()  # nothing painted (the stroke stayed off the picture)
        self._mode = self._last = None

    def undo(self) -> Box | None:
        """Take back the last whole stroke; returns the box of pixels restored."""
        self.end()
        if not self._strokes:
            return None
        boxes = []
        for box, before in reversed(self._strokes.pop()):
            bx0, by0, bx1, by1 = box
            self.rgba[by0:by1, bx0:bx1] = before
            boxes.append(box)
        return _union(boxes)

    def _paint(self, xa: float, ya: float, xb: float, yb: float) -> Box | None:
        h, w = self.rgba.shape[:2]
        r = self._radius
        bx0 = max(0, int(np.floor(min(xa, xb) - r)))
        by0 = max(0, int(np.floor(min(ya, yb) - r)))
        bx1 = min(w, int(np.ceil(max(xa, xb) + r)) + 1)
        by1 = min(h, int(np.ceil(max(ya, yb) + r)) + 1)
        if bx0 >= bx1 or by0 >= by1:
            return None
        mask = np.zeros((by1 - by0, bx1 - bx0), np.uint8)
        # 4 bits of sub-pixel precision: cv2 takes fixed-point coordinates
        f = 16
        pa = (int(round((xa - bx0) * f)), int(round((ya - by0) * f)))
        pb = (int(round((xb - bx0) * f)), int(round((yb - by0) * f)))
        rad = int(round(r * f))
        cv2.circle(mask, pa, rad, 1, -1, cv2.LINE_8, 4)
        cv2.circle(mask, pb, rad, 1, -1, cv2.LINE_8, 4)
        if pa != pb:
            cv2.line(mask, pa, pb, 1, max(1, int(round(2 * r))), cv2.LINE_8, 4)
        sel = mask.astype(bool)
        if not sel.any():
            return None
        box = (bx0, by0, bx1, by1)
        patch = self.rgba[by0:by1, bx0:bx1]
        self._strokes[-1].append((box, patch.copy()))
        if self._mode == ERASE:
            patch[..., 3][sel] = 0
        else:
            patch[sel] = self.original[by0:by1, bx0:bx1][sel]
        return box


def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))
