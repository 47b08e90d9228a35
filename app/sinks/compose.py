"""Flatten straight-alpha RGBA onto an opaque background at a target size (letterboxed).

Virtual cameras and MP4 carry no alpha, so the character is composited here. Resizing is
done on premultiplied colour so transparent pixels' hidden RGB never bleeds into edges.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

KEY_COLOURS: dict[str, tuple[int, int, int]] = {
    "green": (0, 255, 0),
    "magenta": (255, 0, 255),
}


def load_background_image(path: str | Path, width: int, height: int) -> np.ndarray:
    """The image at `path` as RGB uint8 covering width x height (scaled to fill, centre crop)."""
    data = np.fromfile(str(path), dtype=np.uint8) if Path(path).is_file() else None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if img is None:
        raise ValueError(f"background image {str(path)!r} cannot be read; choose a PNG or JPEG file")
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    scale = max(width / w, height / h)
    nw, nh = max(width, round(w * scale)), max(height, round(h * scale))
    img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x0, y0 = (nw - width) // 2, (nh - height) // 2
    return np.ascontiguousarray(img[y0:y0 + height, x0:x0 + width])


def solid(width: int, height: int, rgb: tuple[int, int, int]) -> np.ndarray:
    out = np.empty((height, width, 3), np.uint8)
    out[:] = np.asarray(rgb, np.uint8)
    return out


def fit_rect(src_w: int, src_h: int, dst_w: int, dst_h: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the largest src-shaped rectangle centred in dst."""
    scale = min(dst_w / src_w, dst_h / src_h)
    w, h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    return (dst_w - w) // 2, (dst_h - h) // 2, w, h


def resize_rgba(rgba: np.ndarray, width: int, height: int) -> np.ndarray:
    """Straight-alpha RGBA resized without dark or coloured fringes (premultiplied resize)."""
    if rgba.shape[1] == width and rgba.shape[0] == height:
        return rgba
    f = rgba.astype(np.float32)
    a = f[..., 3:4] / 255.0
    f[..., :3] *= a
    interp = cv2.INTER_AREA if width < rgba.shape[1] else cv2.INTER_LINEAR
    r = cv2.resize(f, (width, height), interpolation=interp)
    a2 = r[..., 3:4] / 255.0
    rgb = np.where(a2 > 1e-6, r[..., :3] / np.maximum(a2, 1e-6), 0.0)
    out = np.concatenate([rgb, r[..., 3:4]], axis=2)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """RGBA with colour multiplied by alpha (uint8, OpenCV's integer SIMD paths)."""
    a = rgba[..., 3]
    rgb = cv2.multiply(np.ascontiguousarray(rgba[..., :3]), cv2.merge([a, a, a]), scale=1 / 255)
    return cv2.merge([rgb, a])


def over_premultiplied(pm: np.ndarray, background: np.ndarray) -> np.ndarray:
    """RGB of premultiplied RGBA `pm` over an RGB `background` of the same size."""
    a = pm[..., 3]
    inv = cv2.merge([255 - a, 255 - a, 255 - a])
    return cv2.add(np.ascontiguousarray(pm[..., :3]), cv2.multiply(background, inv, scale=1 / 255))


def over(rgba: np.ndarray, background: np.ndarray) -> np.ndarray:
    """RGB result of straight-alpha `rgba` drawn over an RGB `background` of the same size."""
    return over_premultiplied(premultiply(rgba), np.ascontiguousarray(background))


class Compositor:
    """Puts each RGBA frame, letterboxed and optionally mirrored, over a fixed background."""

    def __init__(self, background: np.ndarray, mirror: bool = False) -> None:
        self.background = np.ascontiguousarray(background[..., :3])
        self.height, self.width = self.background.shape[:2]
        self.mirror = mirror

    def __call__(self, rgba: np.ndarray) -> np.ndarray:
        if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
            raise ValueError(f"expected an HxWx4 uint8 RGBA frame, got {rgba.shape} {rgba.dtype}")
        src_h, src_w = rgba.shape[:2]
        x, y, w, h = fit_rect(src_w, src_h, self.width, self.height)
        out = self.background.copy()
        # Only the character's bounding box needs blending; the rest is background already.
        bx, by, bw, bh = cv2.boundingRect(np.ascontiguousarray(rgba[..., 3]))
        if bw == 0:
            return out
        pm = np.zeros_like(rgba)
        pm[by:by + bh, bx:bx + bw] = premultiply(rgba[by:by + bh, bx:bx + bw])
        if (w, h) != (src_w, src_h):  # resizing premultiplied colour keeps edges clean
            interp = cv2.INTER_AREA if w < src_w else cv2.INTER_LINEAR
            pm = cv2.resize(pm, (w, h), interpolation=interp)
        sx, sy = w / src_w, h / src_h
        x0, x1 = max(0, int(bx * sx) - 2), min(w, int(np.ceil((bx + bw) * sx)) + 2)
        y0, y1 = max(0, int(by * sy) - 2), min(h, int(np.ceil((by + bh) * sy)) + 2)
        if self.mirror:
            pm = cv2.flip(pm, 1)
            x0, x1 = w - x1, w - x0
        region = out[y + y0:y + y1, x + x0:x + x1]
        region[:] = over_premultiplied(pm[y0:y1, x0:x1], np.ascontiguousarray(region))
        return out
