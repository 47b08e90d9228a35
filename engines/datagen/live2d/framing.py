"""Framing a model to the input convention: head in the 128x128 box x 192-320, y 64-192.

The face is found from what changes on the model itself: the eyes from a rest render versus
an eyes-closed render, the mouth from a mouth-open render. A first render of the whole
canvas finds them roughly; a second, zoomed render measures them precisely. Anime heads
keep fairly stable proportions relative to the eye line and the eye-to-mouth distance, so
those two measurements place and scale the head.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engines.convention import CANVAS, EYE_LINE_Y, EYE_MOUTH, EYE_SPAN, HEAD_BOX, face_framing  # noqa: F401

FRAMING_VERSION = 6
# Where the landmarks land in the 512 image (the eye line, the eye-to-mouth distance, the eye
# span) is the convention's rule, engines.convention.face_framing, shared with app.intake.
# Without working eyes: the width of the rolling head's box, as a fraction of the box.
HEAD_FIT = 1.0


class FramingError(RuntimeError):
    pass


@dataclass
class Framing:
    """Canvas units -> 512 pixels: (scale * u + tx, scale * v + ty)."""

    scale: float
    tx: float
    ty: float
    eyes: tuple[float, float, float, float] | None = None  # canvas bbox x0, y0, x1, y1
    mouth: tuple[float, float, float, float] | None = None
    head: tuple[float, float, float, float] | None = None  # what moves when the head rolls

    def jittered(self, ds: float, dx: float, dy: float) -> "Framing":
        """Scaled by (1 + ds) about the head box centre, then shifted by (dx, dy) pixels."""
        cx = (HEAD_BOX[0] + HEAD_BOX[2]) / 2.0
        cy = (HEAD_BOX[1] + HEAD_BOX[3]) / 2.0
        k = 1.0 + ds
        return Framing(self.scale * k, cx + (self.tx - cx) * k + dx, cy + (self.ty - cy) * k + dy,
                       self.eyes, self.mouth, self.head)


def _changed(a: np.ndarray, b: np.ndarray, thresh: int = 40) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1) > thresh


def _bbox(mask: np.ndarray, min_pixels: int = 6) -> tuple[float, float, float, float] | None:
    ys, xs = np.nonzero(mask)
    if len(xs) < min_pixels:
        return None
    # Robust to a few stray pixels (anti-aliasing far away): 1st..99th percentile.
    x0, x1 = np.percentile(xs, [1, 99])
    y0, y1 = np.percentile(ys, [1, 99])
    return float(x0), float(y0), float(x1 + 1), float(y1 + 1)


def _to_canvas(box, scale, tx, ty):
    if box is None:
        return None
    x0, y0, x1, y1 = box
    return ((x0 - tx) / scale, (y0 - ty) / scale, (x1 - tx) / scale, (y1 - ty) / scale)


def measure(render, canvas: tuple[int, int], size: int = CANVAS):
    """Eye, mouth and head boxes in canvas units. render(pose, scale, tx, ty) -> RGBA image."""
    cw, ch = canvas
    scale = size / max(cw, ch)
    tx, ty = (size - cw * scale) / 2.0, (size - ch * scale) / 2.0
    # The head: what moves between a left and a right roll (on the whole-canvas render).
    head = _to_canvas(_bbox(_changed(render({"head_roll": -30.0}, scale, tx, ty),
                                     render({"head_roll": 30.0}, scale, tx, ty))), scale, tx, ty)
    eyes = mouth = None
    for zoom in range(2):
        rest = render({}, scale, tx, ty)
        closed = render({"eye_left_open": 0.0, "eye_right_open": 0.0}, scale, tx, ty)
        opened = render({"mouth_open": 1.0}, scale, tx, ty)
        eyes = _to_canvas(_bbox(_changed(rest, closed)), scale, tx, ty)
        mouth = _to_canvas(_bbox(_changed(rest, opened)), scale, tx, ty)
        found = [b for b in (eyes, mouth) if b is not None]
        if not found:
            break
        x0 = min(b[0] for b in found)
        y0 = min(b[1] for b in found)
        x1 = max(b[2] for b in found)
        y1 = max(b[3] for b in found)
        # Zoom so the face features span about half the image.
        extent = max(x1 - x0, y1 - y0, 1e-6)
        scale = min(size * 0.5 / extent, scale * 8.0)
        cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        tx, ty = size / 2.0 - cx * scale, size / 2.0 - cy * scale
    return eyes, mouth, head


def framing_from_landmarks(eyes, mouth, head=None, name: str = "model") -> Framing:
    hx0, hy0, hx1, hy1 = HEAD_BOX
    box = hx1 - hx0
    if eyes is None:
        if head is None:
            raise FramingError(
                f"{name}: neither closing the eyes nor rolling the head changed anything, so the "
                "face cannot be located; are PARAM_EYE_L_OPEN/R_OPEN or PARAM_ANGLE_Z rigged? "
                "Pass an explicit framing instead"
            )
        # Dot-eyed figures: fit the width of what the roll moves (head, ears, hair) into the
        # box, top at the box's top. Its height is no guide: hair and cables hang far down.
        scale = HEAD_FIT * box / max(head[2] - head[0], 1e-6)
        tx = (hx0 + hx1) / 2.0 - scale * (head[0] + head[2]) / 2.0
        ty = hy0 - scale * head[1]
        return Framing(scale, tx, ty, None, mouth, head)
    scale, tx, ty = face_framing(eyes, mouth)
    return Framing(scale, tx, ty, eyes, mouth, head)


def cache_key(model_json: Path) -> str:
    h = hashlib.sha1(f"framing-v{FRAMING_VERSION}".encode())
    h.update(Path(model_json).read_bytes())
    setting = json.loads(Path(model_json).read_text(encoding="utf-8-sig"))
    moc = Path(model_json).parent / setting.get("model", "")
    if moc.is_file():
        h.update(moc.read_bytes())
    return h.hexdigest()[:16]


def load_cached(path: Path) -> Framing | None:
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for k in ("eyes", "mouth", "head"):
        if d.get(k) is not None:
            d[k] = tuple(d[k])
    return Framing(**d)


def save_cached(path: Path, framing: Framing) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(framing)))
    tmp.replace(path)
