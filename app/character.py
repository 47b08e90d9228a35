"""Load a character image and bring it to the input convention (512x512 RGBA, transparent
background, head in the box x 192-320, y 64-192).

load_character() either returns a Character ready for the engine or raises CharacterError
with a message that says what is wrong and what to do; it never touches the character
currently shown, so the caller keeps the previous one on error.
"""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.png_check import damaged_chunk
from engines.convention import CANVAS, HEAD_BOX
from engines.identity_file import identity_beside

MAX_PIXELS = 8192 * 8192  # beyond this an image is treated as a decompression bomb
MAX_FILE_BYTES = 200 * 1024 * 1024
# Below this a face is a few pixels across once framed (the head box is a quarter of the
# canvas), so there is nothing for the engine to animate.
MIN_SIDE = 64
_RESAVE = "Open it in an image editor and export it as an 8-bit RGBA PNG."


class CharacterError(ValueError):
    """The image cannot be used as a character; the message says why and what to do."""


@dataclass
class Character:
    rgba: np.ndarray  # 512x512x4 uint8, straight alpha
    path: Path | None
    notes: list[str] = field(default_factory=list)  # what "prepare" changed, warnings
    # Drawn by the procedural generator (NAME.json beside it holds its identity): the engine
    # poses such characters in its own unit rather than with the factors for others' art.
    generated: bool = False

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
    rgba, more = frame_character(rgba, path.name)
    return Character(rgba, path, notes + more, generated=identity_beside(path) is not None)


def frame_character(rgba: np.ndarray, label: str = "image") -> tuple[np.ndarray, list[str]]:
    """Frame to the convention from the anime face (app.intake). When no face is found the
    picture is still used, framed by its outline (padded and scaled) with a note, so the
    user can place the head box by hand; CharacterError only for what cannot be used."""
    from app.intake.background import BackgroundError, remove_background
    from app.intake.locate import LocatorError
    from app.intake.prepare import PrepareError, is_opaque, prepare_image

    try:
        done = prepare_image(rgba)
        return done.rgba, done.notes
    except (PrepareError, LocatorError) as exc:
        why = str(exc)
    notes = []
    if is_opaque(rgba):
        try:
            rgba, report = remove_background(np.ascontiguousarray(rgba[..., :3]))
        except BackgroundError as exc:
            raise CharacterError(f"{label}: the image has no transparency and {exc}") from None
        if not (rgba[..., 3] > 16).any():
            raise CharacterError(f"{label}: the picture is one plain colour, so nothing is "
                                 "left once its background is removed. Choose a picture "
                                 "with a character in it.")
        notes.append(report.describe())
    try:
        rgba, more = prepare(rgba)
    except CharacterError as exc:
        raise CharacterError(f"{label}: {exc}") from None
    notes += more
    if notes:  # it did not already follow the convention: say why the face was not used
        notes.insert(0, f"framed by its outline only ({why.split('. ')[0]}): check that the "
                        "head sits in the head box")
    return rgba, notes


def save_prepared_beside(src: str | Path, face, picture: np.ndarray | None = None
                         ) -> tuple[Path, "object"]:
    """Prepare the picture at `src` from a face box the user placed (app.intake.FaceBox)
    and write it beside the picture as <name>.prepared.png (atomically; the picture itself
    is never overwritten). `picture`: the pixels to prepare instead of the file's, e.g. with
    the user's erase/restore edits (the same size as the file's picture). Returns the new
    path and the app.intake.prepare.Prepared."""
    from app.intake.prepare import prepare_image

    src = Path(src)
    if picture is not None:
        rgba, notes = picture, []
    else:
        rgba, notes = decode_image(src.read_bytes(), src.name)
    done = prepare_image(rgba, face=face)
    done.notes[:0] = notes
    out = src.with_name(f"{src.stem}.prepared.png")
    save_rgba_png(done.rgba, out)
    return out, done


def decode_image(data: bytes, label: str = "image", photo: bool = False) -> tuple[np.ndarray, list[str]]:
    """8-bit RGBA pixels of an image file, or CharacterError for the kinds the app refuses.
    A `photo` (the avatar's input) only lends its colours: a palette image is fine there,
    and a grayscale one is refused because it has no hair, eye or skin colour to give."""
    notes: list[str] = []
    if not data:
        raise CharacterError(f"{label}: the file is empty (0 bytes). Get a fresh copy of it.")
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
            if min(w, h) < MIN_SIDE:
                raise CharacterError(
                    f"{label}: {w}x{h} pixels is too small for a character. Use a picture "
                    f"at least {MIN_SIDE} pixels on each side; 512x512 is ideal.")
            frames = getattr(img, "n_frames", 1)
            if frames > 1 or getattr(img, "is_animated", False):
                raise CharacterError(
                    f"{label}: an animated or multi-page image ({frames} frames). Save one "
                    "frame as a still RGBA PNG.")
            mode = img.mode
            if mode in ("I", "F"):
                kind = "floating-point" if mode == "F" else "integer"
                raise CharacterError(
                    f"{label}: a 32-bit {kind} image. The engine reads 8 bits per channel. "
                    f"{_RESAVE}")
            if mode in ("I;16", "I;16B", "I;16L") or _is_16bit_png(img):
                raise CharacterError(
                    f"{label}: a 16-bit image. The engine reads 8 bits per channel. {_RESAVE}")
            if mode in ("L", "LA", "1") and photo:
                raise CharacterError(
                    f"{label}: a grayscale photo. The avatar takes its hair, eye and skin "
                    "colours from the photo: use a colour photo.")
            if mode in ("L", "LA", "1"):
                raise CharacterError(
                    f"{label}: a grayscale image. A character must be in colour with "
                    f"transparency. {_RESAVE}")
            if mode in ("P", "PA") and not photo:
                raise CharacterError(
                    f"{label}: a palette (indexed-colour) image; its colours and edges are "
                    f"too coarse for the engine. {_RESAVE}")
            img.load()  # decodes everything: truncation and corruption show up here
            # Phones and some editors store a rotation in EXIF instead of turning the pixels.
            orient = img.getexif().get(0x0112)
            if orient not in (None, 1):
                img = ImageOps.exif_transpose(img)
                notes.append(f"turned upright as its EXIF orientation ({orient}) says")
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
    if img.mode not in ("RGBA", "RGB", "CMYK", "RGBa", "YCbCr") + (("P", "PA") if photo else ()):
        raise CharacterError(f"{label}: unsupported colour mode {img.mode}. {_RESAVE}")
    # An opaque picture keeps alpha 255 here; framing removes its background around the face.
    rgba = np.asarray(img.convert("RGBA"), dtype=np.uint8).copy()
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


def prepare(rgba: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Outline-only framing, for transparent pictures in which no face was found: a
    non-square image is padded to a square around the character (top kept), then scaled.
    Raises CharacterError if nothing is visible."""
    notes: list[str] = []
    alpha = rgba[..., 3]
    solid = alpha > 16
    xs = np.flatnonzero(solid.any(axis=0))  # columns with something visible
    if len(xs) == 0:
        raise CharacterError("the image is fully transparent (nothing is more than 6% "
                             "opaque): there is no character in it.")
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


def save_rgba_png(rgba: np.ndarray, path: str | Path, text: dict[str, str] | None = None) -> None:
    """Write atomically (temp file in the same folder, fsync, rename), so a crash never
    leaves half a PNG where a character was. `text` goes into tEXt chunks."""
    from PIL.PngImagePlugin import PngInfo

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    info = PngInfo()
    for k, v in (text or {}).items():
        info.add_text(k, v)
    try:
        with open(tmp, "wb") as fh:
            Image.fromarray(rgba, "RGBA").save(fh, format="PNG", pnginfo=info)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
