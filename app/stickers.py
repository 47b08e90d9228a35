"""Expression stickers to share: a folder with one still and one short looping animation
per expression preset (the built-ins and the user's own), a contact sheet and a manifest.

- Stills are the expression fully on; animations play the preset's own fade in, hold and
  fade out from the neutral face and back, so they loop without a jump.
- Formats: "png" (still PNG + animated APNG), "webp" (still and animated WebP, both with
  alpha; needs a Pillow built with WebP) or "gif" (still and animated GIF, 1-bit alpha).
  Animated files are NAME-animated.EXT next to NAME.EXT.
- "bust" framing crops the head and shoulders out of the 512x512 convention picture (the
  head box is fixed by the convention, so one crop fits every character) and fades the cut
  at the bottom; "full" keeps the whole picture.

Safety: the pack is written into a hidden temp folder beside the target, every file
fsynced, and renamed into place only when complete, so a full disk or any error leaves no
partial folder. The target must be new or empty; with force=True an earlier sticker pack
there (a folder holding only what its stickers.json lists) is replaced, and nothing else
ever is. A target that is, or holds, the character is refused.
"""
from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Mapping, Optional, Sequence

import cv2
import numpy as np

from app.presets import Preset, ScriptStep, script_poses
from app.sinks.clip_writers import PillowWriter
from app.sinks.clips import swap_folder
from app.sinks.compose import premultiply, resize_rgba
from engines.convention import CANVAS, HEAD_BOX
from engines.posespec import DEFAULT_POSE_SPEC, PoseSpec

FORMATS = ("png", "webp", "gif")
CROPS = ("bust", "full")
MIN_SIZE, MAX_SIZE = 64, 1024
DEFAULT_SIZE = 512  # what Telegram, WhatsApp and Signal ask of a sticker's longest side
FPS = 20  # 50 ms a frame: exact in GIF's 10 ms delay units
ANIMATED_SUFFIX = "-animated"
MANIFEST = "stickers.json"
SHEET = "contact-sheet.png"
PARTIAL_PREFIX, PARTIAL_SUFFIX = ".omokage-", ".part"  # as clips, so stale ones are recognised
# A still expression reads better held a moment; quick gestures (blink, nod) keep their own.
MIN_HOLD_S = 0.8
QUICK_HOLD_S = 0.1
BOTTOM_FADE = 0.12  # share of a bust crop's height faded out at the cut

Render = Callable[[Mapping[str, float]], np.ndarray]
Opener = Callable[[Path], BinaryIO]


class StickerError(ValueError):
    """The pack cannot be written; str() says why and what to do."""


def webp_supported() -> bool:
    from PIL import features

    return bool(features.check("webp"))


@dataclass
class StickerOptions:
    size: int = DEFAULT_SIZE  # px, the square sticker's side
    format: str = "png"  # one of FORMATS
    crop: str = "bust"  # one of CROPS
    fps: int = FPS

    def validate(self) -> "StickerOptions":
        if self.format not in FORMATS:
            raise StickerError(f"sticker format {self.format!r}: use one of {', '.join(FORMATS)}")
        if self.format == "webp" and not webp_supported():
            raise StickerError("this Pillow was built without WebP; choose --format png or gif, "
                               "or install a Pillow wheel from PyPI (it includes WebP)")
        if self.crop not in CROPS:
            raise StickerError(f"sticker framing {self.crop!r}: use one of {', '.join(CROPS)}")
        if isinstance(self.size, bool) or not MIN_SIZE <= int(self.size) <= MAX_SIZE:
            raise StickerError(f"sticker size {self.size} px: use {MIN_SIZE}..{MAX_SIZE} "
                               f"(most apps want {DEFAULT_SIZE})")
        if not 5 <= int(self.fps) <= 50:
            raise StickerError(f"sticker fps {self.fps}: use 5..50")
        return self


@dataclass
class StickerPack:
    folder: Path
    files: list[Path] = field(default_factory=list)  # the stickers (stills and animations)
    extras: list[Path] = field(default_factory=list)  # contact sheet and manifest

    @property
    def count(self) -> int:
        return len(self.files)


# -- names -----------------------------------------------------------------------------
def file_stem(name: str) -> str:
    """A preset name as a file name on every system: letters (any script), digits, - and
    _; anything else becomes "-"."""
    text = unicodedata.normalize("NFC", name).strip()
    text = "".join(c if (c.isalnum() or c in "-_") else "-" for c in text)
    text = re.sub(r"-{2,}", "-", text).strip("-_")
    return text[:40] or "expression"


def _unique_stems(names: Sequence[str]) -> dict[str, str]:
    """name -> stem, distinct even on a case-insensitive file system."""
    taken: set[str] = set()
    out = {}
    for name in names:
        stem = base = file_stem(name)
        i = 2
        while stem.casefold() in taken:
            stem, i = f"{base}-{i}", i + 1
        taken.add(stem.casefold())
        out[name] = stem
    return out


# -- pictures --------------------------------------------------------------------------
def bust_box() -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): a square of 2.5 head boxes around the convention's head box, from
    just above the head: room for hair, a tilt or a nod, and the shoulders."""
    x0, y0, x1, y1 = HEAD_BOX
    side = int(round((x1 - x0) * 2.5))
    cx = (x0 + x1) // 2
    top = max(0, y0 - (y1 - y0) * 3 // 8)
    left = min(max(0, cx - side // 2), CANVAS - side)
    return left, top, left + side, min(CANVAS, top + side)


def frame_sticker(rgba: np.ndarray, options: StickerOptions) -> np.ndarray:
    """The engine's 512x512 frame as a size x size sticker picture."""
    if options.crop == "bust" and rgba.shape[:2] == (CANVAS, CANVAS):
        x0, y0, x1, y1 = bust_box()
        rgba = rgba[y0:y1, x0:x1].copy()
        h = rgba.shape[0]
        n = max(1, int(h * BOTTOM_FADE))  # soft cut instead of a hard line through the body
        ramp = np.linspace(1.0, 0.0, n, dtype=np.float32)[:, None]
        rgba[h - n:, :, 3] = (rgba[h - n:, :, 3].astype(np.float32) * ramp + 0.5).astype(np.uint8)
    side = int(options.size)
    if rgba.shape[:2] == (side, side):
        return np.ascontiguousarray(rgba)
    # Premultiplied resize (no fringes from hidden colour), in uint8: fast OpenCV paths.
    pm = premultiply(np.ascontiguousarray(rgba))
    interp = cv2.INTER_AREA if side < rgba.shape[0] else cv2.INTER_LINEAR
    pm = cv2.resize(pm, (side, side), interpolation=interp)
    a = np.ascontiguousarray(pm[..., 3])
    rgb = cv2.divide(np.ascontiguousarray(pm[..., :3]), cv2.merge([a, a, a]), scale=255)
    return cv2.merge([rgb, a])


def expression_poses(preset: Preset, spec: PoseSpec, fps: int) -> tuple[dict, list[dict]]:
    """(still pose, animation poses) for one preset, from the neutral face."""
    still = spec.clamp({**spec.defaults(), **preset.values})
    hold = preset.hold if preset.hold <= QUICK_HOLD_S else max(preset.hold, MIN_HOLD_S)
    poses = script_poses([ScriptStep(preset.name, hold=hold)], fps,
                         presets={preset.name: preset}, spec=spec)
    return still, poses


# -- encoders (into bytes; the pack writer puts them on disk) ----------------------------
def _png(rgba: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    if not ok:
        raise StickerError("a sticker could not be encoded as PNG")
    return buf.tobytes()


def _pillow_clip(frames: Sequence[np.ndarray], fmt: str, fps: int) -> bytes:
    """GIF or APNG through the clip writer the recorder uses (palette, loop, alpha)."""
    bio = io.BytesIO()
    w = PillowWriter(bio, fmt, fps, loop=True)
    for i, f in enumerate(frames):
        w.add(f, i)
    w.finish()
    return bio.getvalue()


def _webp(frames: Sequence[np.ndarray], fps: int) -> bytes:
    from PIL import Image

    ims = [Image.fromarray(f, "RGBA") for f in frames]
    bio = io.BytesIO()
    if len(ims) == 1:  # a still: lossless keeps the alpha edges exact
        ims[0].save(bio, format="WEBP", lossless=True, method=4)
    else:
        ims[0].save(bio, format="WEBP", save_all=True, append_images=ims[1:],
                    duration=int(round(1000 / fps)), loop=0, quality=90, method=4,
                    lossless=False, alpha_quality=100)
    return bio.getvalue()


def encode(frames: Sequence[np.ndarray], fmt: str, fps: int) -> bytes:
    """One sticker file's bytes: a still when one frame is given, else a looping clip."""
    if fmt == "webp":
        return _webp(frames, fps)
    if fmt == "png":
        return _png(frames[0]) if len(frames) == 1 else _pillow_clip(frames, "apng", fps)
    return _pillow_clip(frames, "gif", fps)


def contact_sheet(stills: Sequence[tuple[str, np.ndarray]], cell: int = 192) -> np.ndarray:
    """Every still on a light grid with its name under it (RGBA, opaque)."""
    from PIL import Image, ImageDraw, ImageFont

    cols = min(4, max(1, len(stills)))
    rows = (len(stills) + cols - 1) // cols
    label_h = 28
    sheet = Image.new("RGBA", (cols * cell, rows * (cell + label_h)), (245, 245, 245, 255))
    draw = ImageDraw.Draw(sheet)
    try:
        font = ImageFont.load_default(size=16)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    for i, (name, rgba) in enumerate(stills):
        x, y = (i % cols) * cell, (i // cols) * (cell + label_h)
        im = Image.fromarray(resize_rgba(rgba, cell, cell), "RGBA")
        sheet.alpha_composite(im, (x, y))
        draw.text((x + cell // 2, y + cell + label_h // 2), name, fill=(40, 40, 40, 255),
                  font=font, anchor="mm")
    return np.asarray(sheet)


# -- the pack --------------------------------------------------------------------------
def _default_opener(path: Path) -> BinaryIO:
    return open(path, "xb")


def _user_message(e: OSError, folder: Path) -> str:
    import errno

    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return (f"The stickers could not be saved: the disk is full ({folder}). Free some space "
                "or choose another folder; nothing was written.")
    if isinstance(e, PermissionError):
        return f"The stickers could not be saved: no permission to write in {folder}. Choose another folder."
    return f"The stickers could not be saved: {e}"


def check_target(out: str | Path, inputs: Sequence[str | Path | None] = (),
                 force: bool = False) -> Path:
    """The absolute target folder, or StickerError saying why it cannot be used."""
    from app.sinks.clips import ClipError, refuse_input_as_output

    target = Path(out).expanduser().absolute()
    if not target.parent.is_dir():
        raise StickerError(f"The folder {target.parent} does not exist; create it or choose "
                           "another place for the stickers.")
    try:
        refuse_input_as_output(target, inputs)
    except ClipError as exc:
        raise StickerError(str(exc)) from None
    if target.exists() and not target.is_dir():
        raise StickerError(f"{target} is a file; stickers go into a folder. Choose a folder name.")
    if target.is_dir() and any(target.iterdir()):
        if not force:
            raise StickerError(f"The folder {target} is not empty; choose a new or empty folder "
                               "(--force replaces an earlier sticker pack there).")
        _check_earlier_pack(target)
    return target


def _check_earlier_pack(target: Path) -> None:
    """Refuse to replace a folder unless it holds only what an earlier pack wrote."""
    manifest = target / MANIFEST
    try:
        listed = set(json.loads(manifest.read_text(encoding="utf-8"))["files"]) | {MANIFEST}
    except (OSError, ValueError, KeyError, TypeError):
        raise StickerError(f"The folder {target} is not empty and is not a sticker pack (it has "
                           f"no readable {MANIFEST}); choose a new or empty folder.") from None
    others = sorted(p.name for p in target.iterdir() if p.name not in listed or p.is_dir())
    if others:
        raise StickerError(f"The folder {target} holds files that are not part of its sticker "
                           f"pack ({', '.join(others[:3])}); they would be lost. Choose a new "
                           "or empty folder.")


def _move_into_place(tmp: Path, target: Path) -> None:
    if not target.exists():
        os.rename(tmp, target)
        return
    if not any(target.iterdir()):
        try:
            os.rename(tmp, target)  # POSIX replaces an empty folder in one step
        except OSError:
            os.rmdir(target)
            os.rename(tmp, target)
        return
    swap_folder(tmp, target)  # the earlier pack comes back if this fails


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder like a file
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_pack(render: Render, presets: Mapping[str, Preset], out: str | Path,
               options: StickerOptions | None = None, *, spec: PoseSpec = DEFAULT_POSE_SPEC,
               inputs: Sequence[str | Path | None] = (), force: bool = False,
               character_name: str = "", progress: Optional[Callable[[str], None]] = None,
               opener: Opener | None = None) -> StickerPack:
    """Render every preset with `render` (pose -> 512x512 RGBA) and write the pack into
    the folder `out` (see the module notes for the rules). `inputs` are files the pack must
    not replace (the character). progress(name) is called before each expression."""
    options = (options or StickerOptions()).validate()
    if not presets:
        raise StickerError("there are no expressions to render")
    target = check_target(out, inputs, force)
    opener = opener or _default_opener
    tmp = target.parent / f"{PARTIAL_PREFIX}{target.name}-{secrets.token_hex(4)}{PARTIAL_SUFFIX}"
    try:
        tmp.mkdir()
    except OSError as e:
        raise StickerError(_user_message(e, target.parent)) from e
    names: list[str] = []
    stills: list[tuple[str, np.ndarray]] = []
    entries = []

    def put(name: str, data: bytes) -> None:
        with opener(tmp / name) as fp:
            fp.write(data)
            fp.flush()
            os.fsync(fp.fileno())
        names.append(name)

    cache: dict[bytes, np.ndarray] = {}  # neutral frames repeat: render each pose once

    def picture(pose: Mapping[str, float]) -> np.ndarray:
        key = spec.to_vector(pose).tobytes()
        if key not in cache:
            cache[key] = frame_sticker(np.asarray(render(pose)), options)
        return cache[key]

    ext = "." + options.format
    try:
        for preset_name, stem in _unique_stems(list(presets)).items():
            if progress is not None:
                progress(preset_name)
            preset = presets[preset_name]
            still_pose, poses = expression_poses(preset, spec, int(options.fps))
            still = picture(still_pose)
            frames = [picture(p) for p in poses]
            put(stem + ext, encode([still], options.format, int(options.fps)))
            put(stem + ANIMATED_SUFFIX + ext, encode(frames, options.format, int(options.fps)))
            stills.append((preset_name, still))
            entries.append({"expression": preset_name, "still": stem + ext,
                            "animated": stem + ANIMATED_SUFFIX + ext, "frames": len(frames)})
            cache.clear()
        n_stickers = len(names)
        put(SHEET, _png(contact_sheet(stills)))
        manifest = {"character": character_name, "size": int(options.size),
                    "format": options.format, "crop": options.crop, "fps": int(options.fps),
                    "stickers": entries, "files": names + [MANIFEST]}
        put(MANIFEST, (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode())
        _fsync_dir(tmp)  # the entries are on disk before the folder gets its name
        _move_into_place(tmp, target)
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise StickerError(_user_message(e, target.parent)) from e
        raise
    _fsync_dir(target.parent)
    return StickerPack(target, [target / n for n in names[:n_stickers]],
                       [target / n for n in names[n_stickers:]])


def default_pack_folder(parent: str | Path, character_name: str) -> Path:
    """Where the window puts a pack in the folder the user chose: the folder itself when
    it is empty, else a new "<character>-stickers" folder inside it (never a used name)."""
    parent = Path(parent)
    if parent.is_dir() and not any(parent.iterdir()):
        return parent
    base = f"{file_stem(character_name or 'omokage')}-stickers"
    for i in range(1, 10_000):
        candidate = parent / (base if i == 1 else f"{base}-{i}")
        if not candidate.exists():
            return candidate
    raise StickerError(f"too many sticker folders in {parent}; choose another folder")
