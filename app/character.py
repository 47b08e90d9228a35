"""Load a character image and bring it to the input convention (512x512 RGBA, transparent
background, head in the box x 192-320, y 64-192).

load_character() either returns a Character ready for the engine or raises CharacterError
with a message that says what is wrong and what to do; it never touches the character
currently shown, so the caller keeps the previous one on error.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from app.png_check import damaged_chunk
from engines.convention import CANVAS, HEAD_BOX

MAX_PIXELS = 8192 * 8192  # beyond this an image is treated as a decompression bomb
MAX_FILE_BYTES = 200 * 1024 * 1024
_RESAVE = "Open it in an image editor and export it as an 8-bit RGBA PNG."


class CharacterError(ValueError):
    """The image cannot be used as a character; the message says why and what to do."""


@dataclass
class Character:
    rgba: np.ndarray  # 512x512x4 uint8, straight alpha
    path: Path | None
    notes: list[str] = field(default_factory=list)  # what "prepare" changed, warnings

    @property
    def name(self) -> str:
        return self.path.stem if self.path else "character"


def load_character(path: str | Path) -> Character:
    path = Path(path)
    if not path.exists():
        raise CharacterError(f"{path}: file not found.")
    if path.is_dir():
        raise CharacterError(f"{path} is a folder; choose a PNG image.")
    size = path.stat().st_size
    if size == 0:
        raise CharacterError(f"{path.name}: the file is empty.")
    if size > MAX_FILE_BYTES:
        raise CharacterError(f"{path.name}: the file is {size >> 20} MB; that is too large "
                             "for a character image (a 512x512 PNG is under 1 MB).")
    data = path.read_bytes()
    rgba, notes = decode_image(data, path.name)
    rgba, more = prepare(rgba)
    return Character(rgba, path, notes + more)


def decode_image(data: bytes, label: str = "image") -> tuple[np.ndarray, list[str]]:
    """8-bit RGBA pixels of an image file, or CharacterError for the kinds the app refuses."""
    notes: list[str] = []
    broken = damaged_chunk(data)
    if broken:
        raise CharacterError(f"{label}: the PNG file is damaged ({broken}), so its pixels "
                             "cannot be trusted. Get a fresh copy of the file.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise CharacterError(
                    f"{label}: {w}x{h} pixels is far too large (a possible decompression "
                    f"bomb). Use an image of at most {int(MAX_PIXELS ** 0.5)} pixels a side; "
                    "512x512 is ideal.")
            frames = getattr(img, "n_frames", 1)
            if frames > 1 or getattr(img, "is_animated", False):
                raise CharacterError(
                    f"{label}: an animated image ({frames} frames). Save one frame as a "
                    "still RGBA PNG.")
            mode = img.mode
            if mode in ("I;16", "I;16B", "I;16L", "I", "F") or _is_16bit_png(img):
                raise CharacterError(
                    f"{label}: a 16-bit image. The engine reads 8 bits per channel. {_RESAVE}")
            if mode in ("L", "LA", "1"):
                raise CharacterError(
                    f"{label}: a grayscale image. A character must be in colour with "
                    f"transparency. {_RESAVE}")
            if mode in ("P", "PA"):
                raise CharacterError(
                    f"{label}: a palette (indexed-colour) image; its colours and edges are "
                    f"too coarse for the engine. {_RESAVE}")
            img.load()  # decodes everything: truncation and corruption show up here
    except CharacterError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise CharacterError(
            f"{label}: the image declares an enormous size (a possible decompression bomb) "
            "and was not opened. Use a 512x512 PNG.") from None
    except UnidentifiedImageError:
        raise CharacterError(
            f"{label}: not an image file, or the file is corrupt. Choose a PNG image.") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc)
        kind = "truncated (incomplete download or copy?)" if "truncat" in text.lower() \
            else "damaged"
        raise CharacterError(f"{label}: the image file is {kind}: {text}. "
                             "Get a fresh copy of the file.") from None
    if img.mode == "CMYK":
        notes.append("converted from CMYK to RGB")
    if img.mode not in ("RGBA", "RGB", "CMYK", "RGBa", "YCbCr"):
        raise CharacterError(f"{label}: unsupported colour mode {img.mode}. {_RESAVE}")
    rgba = np.asarray(img.convert("RGBA"), dtype=np.uint8).copy()
    if img.mode != "RGBA":
        rgba, keyed = _key_out_background(rgba)
        if keyed is None:
            raise CharacterError(
                f"{label}: the image has no transparency and its background is not a single "
                "plain colour that could be removed. Erase the background (alpha 0) in an "
                "image editor and save as RGBA PNG.")
        notes.append(f"made the plain background {keyed} transparent")
    return rgba, notes


def _is_16bit_png(img: Image.Image) -> bool:
    # Pillow reads 16-bit RGB(A) PNGs as 8-bit RGB(A) silently; the header tells the truth.
    if img.format != "PNG":
        return False
    fp = getattr(img, "fp", None)
    try:
        fp.seek(24)
        return fp.read(1) == b"\x10"
    except (AttributeError, OSError, ValueError):
        return False


def _key_out_background(rgba: np.ndarray, tol: int = 12) -> tuple[np.ndarray, str | None]:
    """If the border is one plain colour, make the region of that colour connected to the
    border transparent. Returns (image, colour as #rrggbb) or (image, None) if not plain."""
    h, w = rgba.shape[:2]
    border = np.concatenate([rgba[0, :, :3], rgba[-1, :, :3], rgba[:, 0, :3], rgba[:, -1, :3]])
    colour = np.median(border, axis=0)
    if np.mean(np.abs(border.astype(np.float32) - colour).max(axis=1) <= tol) < 0.6:  # busts touch the bottom edge
        return rgba, None
    diff = np.abs(rgba[..., :3].astype(np.int16) - colour.astype(np.int16)).max(axis=2)
    near = (diff <= tol).astype(np.uint8)
    # Flood from the border only, so the same colour inside the character is kept.
    n, labels = cv2.connectedComponents(near, connectivity=4)
    edge_labels = set(np.unique(np.concatenate(
        [labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist()) - {0}
    bg = np.isin(labels, list(edge_labels)) & (near > 0)
    out = rgba.copy()
    out[bg, 3] = 0
    c = colour.astype(int)
    return out, f"#{c[0]:02x}{c[1]:02x}{c[2]:02x}"


def prepare(rgba: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Bring an RGBA image to 512x512: a non-square image is padded to a square around the
    character (top kept), then scaled. Raises CharacterError if nothing is visible."""
    notes: list[str] = []
    alpha = rgba[..., 3]
    solid = alpha > 16
    xs = np.flatnonzero(solid.any(axis=0))  # columns with something visible
    if len(xs) == 0:
        raise CharacterError("the image is fully transparent: there is no character in it.")
    if solid.mean() > 0.985:
        raise CharacterError(
            "the image has no transparent background (alpha is opaque almost everywhere). "
            "Erase the background (alpha 0) in an image editor and save as RGBA PNG.")
    h, w = alpha.shape
    if h != w:
        side = max(h, w)
        cx = (xs.min() + xs.max()) / 2.0
        x0 = int(round(side / 2.0 - cx)) if w < side else 0
        x0 = min(max(x0, 0), side - w)
        canvas = np.zeros((side, side, 4), np.uint8)
        # Tall images keep their top (the head); wide images are centred on the character.
        canvas[0:h, x0:x0 + w] = rgba
        rgba = canvas
        notes.append(f"padded {w}x{h} to a {side}x{side} square")
    if rgba.shape[0] != CANVAS:
        before = rgba.shape[0]
        rgba = _resize_rgba(rgba, CANVAS)
        notes.append(f"scaled {before}x{before} to {CANVAS}x{CANVAS}")
    x0, y0, x1, y1 = HEAD_BOX
    if (rgba[y0:y1, x0:x1, 3] > 16).mean() < 0.25:
        notes.append("the head box (x 192-320, y 64-192) is mostly empty: the character may "
                     "not follow the input convention, so the face may not animate well")
    return np.ascontiguousarray(rgba), notes


def _resize_rgba(img: np.ndarray, size: int) -> np.ndarray:
    # Pillow resamples RGBA on premultiplied colour, so transparent pixels do not darken
    # the edges; reducing_gap shrinks big images by whole factors first (fast, same look).
    im = Image.fromarray(img, "RGBA")
    out = im.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(out, dtype=np.uint8).copy()


def save_rgba_png(rgba: np.ndarray, path: str | Path) -> None:
    Image.fromarray(rgba, "RGBA").save(str(path))
