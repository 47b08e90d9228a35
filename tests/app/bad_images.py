"""Images a character loader must refuse, one of each kind, written to a folder."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def _character(size=(512, 512)) -> np.ndarray:
    w, h = size
    img = np.zeros((h, w, 4), np.uint8)
    s = w / 512
    cv2.circle(img, (w // 2, int(128 * s)), int(60 * s), (240, 200, 180, 255), -1)
    cv2.rectangle(img, (int(176 * s), int(190 * s)), (int(336 * s), h - 1), (40, 60, 200, 255), -1)
    return img


def _save(img: np.ndarray, path: Path, mode="RGBA") -> Path:
    Image.fromarray(img, mode).save(path)
    return path


def _png_with_size(path: Path, w: int, h: int) -> Path:
    # A tiny valid PNG whose header claims w x h: opening must not try to decode it.
    raw = b"".join(b"\x00" + b"\x00" * 4 for _ in range(1))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) \
        + chunk(b"IEND", b"")
    path.write_bytes(data)
    return path


def bad_images(tmp: Path) -> dict[str, tuple[Path, str]]:
    good = _save(_character(), tmp / "good.png").read_bytes()
    corrupt = tmp / "corrupt.png"
    corrupt.write_bytes(b"this is not a png at all" * 10)
    truncated = tmp / "truncated.png"
    truncated.write_bytes(good[: len(good) // 2])
    gray = _save(_character()[..., 0], tmp / "gray.png", "L")
    rgba16 = tmp / "rgba16.png"
    cv2.imwrite(str(rgba16), _character().astype(np.uint16) * 257)
    pal = tmp / "palette.png"
    Image.fromarray(_character()).convert("P").save(pal)
    anim = tmp / "anim.gif"
    frames = [Image.fromarray(_character()[..., :3]), Image.fromarray(255 - _character()[..., :3])]
    frames[0].save(anim, save_all=True, append_images=frames[1:], duration=100)
    return {
        "corrupt": (corrupt, "corrupt"),
        "truncated": (truncated, "truncated"),
        "huge": (_png_with_size(tmp / "bomb.png", 60000, 60000), "decompression bomb"),
        "grayscale": (gray, "grayscale"),
        "16-bit": (rgba16, "16-bit"),
        "palette": (pal, "palette"),
        "animated": (anim, "animated"),
        "empty": (_save(np.zeros((512, 512, 4), np.uint8), tmp / "empty.png"), "transparent"),
        "missing": (tmp / "nope.png", "not found"),
        "damaged image data": (_flip_byte(good, b"IDAT", tmp / "idat.png"),
                               "IDAT chunk at byte 33 fails its checksum"),
        "damaged text chunk": (_flip_byte(_with_text(good), b"tEXt", tmp / "text.png"),
                               "tEXt chunk"),
    }


def _chunks(data: bytes):
    pos = 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        yield data[pos + 4:pos + 8], pos, n
        pos += 12 + n


def _flip_byte(png: bytes, kind: bytes, path: Path) -> Path:
    """One byte of the first `kind` chunk's data flipped (its CRC left as it was): the
    damage a bad disk or download does. Inside IDAT it often still decodes, as garbage."""
    pos, n = next((p, n) for k, p, n in _chunks(png) if k == kind)
    data = bytearray(png)
    data[pos + 8 + n // 2] ^= 0x55
    path.write_bytes(bytes(data))
    return path


def _with_text(png: bytes) -> bytes:
    """The same PNG with a tEXt chunk after IHDR."""
    body = b"Comment\x00made by a test"
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body \
        + struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
    return png[:33] + chunk + png[33:]


