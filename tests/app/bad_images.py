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
    jpeg = _jpeg(_character())
    return {
        **_more_bad_images(tmp, good, jpeg),
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




def _jpeg(rgba: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgba[..., :3], cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _pil(img: Image.Image, path: Path, **kw) -> Path:
    img.save(path, **kw)
    return path


def _two_frames() -> list[Image.Image]:
    return [Image.fromarray(_character()), Image.fromarray(255 - _character())]


def _jpeg_claiming(jpeg: bytes, w: int, h: int) -> bytes:
    """The JPEG with its frame header (SOF0) claiming w x h pixels."""
    data = bytearray(jpeg)
    i = data.find(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", h, w)
    return bytes(data)


def _more_bad_images(tmp: Path, good: bytes, jpeg: bytes) -> dict[str, tuple[Path, str]]:
    """Files people really pick by mistake or receive damaged: each refused with words
    that say what is wrong."""
    folder = tmp / "folder.png"
    folder.mkdir()
    link = tmp / "link.png"
    link.symlink_to(tmp / "moved-away.png")
    frames = _two_frames()
    white = np.full((512, 512, 3), 255, np.uint8)
    faint = _character()
    faint[..., 3] = np.where(faint[..., 3] > 0, 5, 0)  # drawn, but with alpha 5 of 255
    header_crc = bytearray(good)
    header_crc[29] ^= 0x01  # inside IHDR (its width/height/depth bytes): checksum fails
    return {
        "zero bytes": (_write(tmp / "zero.png", b""), "the file is empty"),
        "folder": (folder, "is a folder"),
        "dangling link": (link, "file not found"),
        "cut inside the header": (_write(tmp / "head.png", good[:20]), "truncated"),
        "signature only": (_write(tmp / "sig.png", good[:8]), "not an image file"),
        "truncated jpeg": (_write(tmp / "cut.jpg", jpeg[: len(jpeg) // 3]), "truncated"),
        "web page saved as png": (_write(tmp / "page.png", b"<html><body>404 Not Found"
                                         b"</body></html>"), "not an image file"),
        "svg": (_write(tmp / "vector.svg", b'<svg xmlns="http://www.w3.org/2000/svg" '
                                           b'width="512" height="512"/>'), "not an image file"),
        "gzipped png": (_write(tmp / "packed.png", zlib.compress(good)), "not an image file"),
        "damaged header": (_write(tmp / "ihdr.png", bytes(header_crc)),
                           "IHDR chunk at byte 8 fails its checksum"),
        "one pixel": (_save(_character((512, 512))[250:251, 250:251], tmp / "dot.png"),
                      "1x1 pixels is too small"),
        "thumbnail": (_save(_character((32, 32)), tmp / "thumb.png"), "32x32 pixels is too small"),
        "thin strip": (_save(_character((512, 512))[100:102], tmp / "strip.png"),
                       "512x2 pixels is too small"),
        "grayscale with alpha": (_pil(Image.fromarray(_character()).convert("LA"),
                                      tmp / "la.png"), "grayscale"),
        "16-bit grayscale": (_write(tmp / "g16.png", cv2.imencode(
            ".png", _character()[..., 0].astype(np.uint16) * 257)[1].tobytes()), "16-bit"),
        "1-bit": (_pil(Image.fromarray(_character()[..., 0] > 100), tmp / "bits.png"),
                  "grayscale"),
        "float tiff": (_pil(Image.fromarray(_character()[..., 0].astype(np.float32) / 255, "F"),
                            tmp / "float.tif"), "32-bit floating-point"),
        "animated webp": (_pil(frames[0], tmp / "anim.webp", save_all=True,
                               append_images=frames[1:]), "animated or multi-page image (2"),
        "animated png": (_pil(frames[0], tmp / "anim.png", save_all=True,
                              append_images=frames[1:]), "animated or multi-page image (2"),
        "multi-page tiff": (_pil(frames[0], tmp / "pages.tif", save_all=True,
                                 append_images=frames[1:]), "multi-page image (2 frames)"),
        "single-frame gif": (_pil(Image.fromarray(_character()).convert("P"), tmp / "one.gif"),
                             "palette"),
        "jpeg claiming 65000x65000": (_write(tmp / "bomb.jpg", _jpeg_claiming(jpeg, 65000, 65000)),
                                      "decompression bomb"),
        "one plain colour": (_save(white, tmp / "white.png", "RGB"), "one plain colour"),
        "almost invisible": (_save(faint, tmp / "faint.png"), "fully transparent"),
    }


def odd_images(tmp: Path) -> dict[str, tuple[Path, np.ndarray | None, str | None]]:
    """Unusual but sound files that load: (path, the pixels expected exactly or None,
    words expected in a note or None for no notes)."""
    src = _character()
    good = _save(src, tmp / "good.png").read_bytes()
    cmyk = _pil(Image.fromarray(src[..., :3]).convert("CMYK"), tmp / "print.jpg")
    bmp = tmp / "opaque.bmp"
    rgb = src[..., :3].copy()
    rgb[src[..., 3] == 0] = (255, 255, 255)
    Image.fromarray(rgb).save(bmp)
    return {
        "cmyk jpeg": (cmyk, None, "converted from CMYK to RGB"),
        "png named .jpg": (_write(tmp / "really-a-png.jpg", good), src, None),
        "bytes after the end": (_write(tmp / "tail.png", good + b"\0garbage" * 64), src, None),
        "lossless webp": (_pil(Image.fromarray(src), tmp / "c.webp", lossless=True), src, None),
        "opaque bmp on white": (bmp, None, "background removed"),
    }
