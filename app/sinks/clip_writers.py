"""Encoders for clip files. Each writes into an already-open binary file object, so the
caller owns where bytes go (a temp file that is moved into place only when complete).

- GIF: Pillow, one global palette, 1-bit transparency (index 255), loops.
- APNG: Pillow, full alpha, loops.
- MP4: PyAV H.264 (yuv420p), composited over a background colour (no alpha in H.264).
- WebM: PyAV VP9 with alpha (yuva420p + the container's alpha_mode flag).
- MOV: PyAV ProRes 4444 with alpha (yuva444p10le), the format video editors import.
- PNG sequence: one RGBA PNG per frame in a folder (frame_00001.png, ...).
Frames carry integer timestamps (pts) in units of 1/fps; gaps mean "hold the last frame".
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Callable, Protocol

import cv2
import numpy as np

from app.sinks.compose import over, solid

GIF_ALPHA_THRESHOLD = 128


class ClipWriter(Protocol):
    def add(self, rgba: np.ndarray, pts: int) -> None: ...
    def finish(self) -> None: ...
    def abort(self) -> None: ...


def time_base(fps: float) -> Fraction:
    """1/fps as an exact fraction (29.97 fps driver videos stay 30000/1001)."""
    return 1 / Fraction(fps).limit_denominator(1001)


class AvWriter:
    """MP4 (H.264), WebM (VP9 + alpha) or MOV (ProRes 4444 + alpha) through PyAV,
    encoding as frames arrive."""

    def __init__(self, fp: BinaryIO, fmt: str, fps: float, size: tuple[int, int],
                 background: tuple[int, int, int], realtime: bool) -> None:
        import av

        self.fmt = fmt
        w, h = size
        rate = Fraction(fps).limit_denominator(1001)
        self.container = av.open(fp, "w", format={"mp4": "mp4", "webm": "webm", "mov": "mov"}[fmt])
        if fmt == "mov":
            # ProRes 4444 (profile 4) keeps a full alpha plane; "apl0" in the frame headers
            # is what Apple's own encoder writes there.
            opts = {"profile": "4", "vendor": "apl0"}
            self.stream = self.container.add_stream("prores_ks", rate=rate, options=opts)
            self.stream.pix_fmt = "yuva444p10le"
        elif fmt == "mp4":
            opts = {"crf": "20", "preset": "veryfast"}
            self.stream = self.container.add_stream("libx264", rate=rate, options=opts)
            self.stream.pix_fmt = "yuv420p"
            self._bg = solid(w, h, background)
        else:
            opts = {"crf": "32", "b": "0", "row-mt": "1",
                    "deadline": "realtime" if realtime else "good",
                    "cpu-used": "8" if realtime else "4"}
            self.stream = self.container.add_stream("libvpx-vp9", rate=rate, options=opts)
            self.stream.pix_fmt = "yuva420p"
            # Players (browsers, OBS media sources) look for this flag to decode the alpha.
            self.stream.metadata["alpha_mode"] = "1"
        self.stream.width, self.stream.height = w, h
        self._time_base = time_base(fps)
        self._av = av

    def add(self, rgba: np.ndarray, pts: int) -> None:
        if self.fmt == "mp4":
            frame = self._av.VideoFrame.from_ndarray(over(rgba, self._bg), format="rgb24")
        else:
            frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgba), format="rgba")
        frame.pts = pts
        frame.time_base = self._time_base
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def finish(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # the file is being thrown away anyway
            pass


class PillowWriter:
    """GIF or APNG through Pillow. Frames are kept PNG-compressed until the end, where
    Pillow writes the whole animation (it needs every frame to build it)."""

    def __init__(self, fp: BinaryIO, fmt: str, fps: float, loop: bool) -> None:
        self.fp, self.fmt, self.fps, self.loop = fp, fmt, fps, loop
        self._frames: list[bytes] = []
        self._pts: list[int] = []

    def add(self, rgba: np.ndarray, pts: int) -> None:
        ok, buf = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA),
                               [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise RuntimeError("could not buffer a clip frame")
        self._frames.append(buf.tobytes())
        self._pts.append(pts)

    def _rgba(self, i: int) -> np.ndarray:
        bgra = cv2.imdecode(np.frombuffer(self._frames[i], np.uint8), cv2.IMREAD_UNCHANGED)
        return cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGBA)

    def _durations_ms(self) -> list[int]:
        step = 1000.0 / self.fps
        nxt = self._pts[1:] + [self._pts[-1] + 1]
        return [max(10, int(round((b - a) * step))) for a, b in zip(self._pts, nxt)]

    def finish(self) -> None:
        from PIL import Image

        if not self._frames:
            raise ValueError("no frames")
        durations = self._durations_ms()
        if self.fmt == "gif":
            lut, palette = _gif_palette([self._rgba(i) for i in _sample(len(self._frames), 8)])
            frames = (_gif_frame(self._rgba(i), lut, palette) for i in range(len(self._frames)))
            first = next(frames)
            loop = {"loop": 0} if self.loop else {}  # no NETSCAPE block: play once
            first.save(self.fp, format="GIF", save_all=True, append_images=frames,
                       duration=durations, disposal=2, transparency=255, optimize=False, **loop)
        else:
            # A list, not a generator: Pillow's APNG writer walks append_images twice.
            frames = [Image.fromarray(self._rgba(i), "RGBA") for i in range(len(self._frames))]
            # blend 0 (source): each frame's changed rectangle replaces what was there,
            # alpha included, so nothing smears; disposal 0 keeps the rest, so Pillow stores
            # only that rectangle (a talking face: ~6x smaller and ~8x faster than clearing).
            frames[0].save(self.fp, format="PNG", save_all=True, append_images=frames[1:],
                       duration=durations, loop=0 if self.loop else 1, disposal=0, blend=0)
        self._frames.clear()

    def abort(self) -> None:
        self._frames.clear()


class PngSequenceWriter:
    """One RGBA PNG per frame into a folder (the caller's temp folder). A frame that
    follows a gap repeats the held frame's file, so the sequence stays on the fps grid.
    Every file is flushed and fsynced before the folder is renamed into place."""

    def __init__(self, folder: Path, opener: Callable[[Path], BinaryIO]) -> None:
        self.folder, self.opener = folder, opener
        self.count = 0
        self._last: bytes | None = None

    def add(self, rgba: np.ndarray, pts: int) -> None:
        ok, buf = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA),
                               [cv2.IMWRITE_PNG_COMPRESSION, 3])
        if not ok:
            raise RuntimeError("could not encode a PNG frame")
        while self._last is not None and self.count < pts:  # hold the last frame
            self._write(self._last)
        self._last = buf.tobytes()
        self._write(self._last)

    def _write(self, data: bytes) -> None:
        self.count += 1
        with self.opener(self.folder / f"frame_{self.count:05d}.png") as fp:
            fp.write(data)
            fp.flush()
            os.fsync(fp.fileno())

    def finish(self) -> None:
        try:  # the folder's entries are on disk before it gets its final name
            fd = os.open(self.folder, os.O_RDONLY)
        except OSError:  # Windows cannot open a folder like a file
            return
        try:
            os.fsync(fd)
        except OSError:  # some file systems cannot fsync a folder
            pass
        finally:
            os.close(fd)

    def abort(self) -> None:
        self._last = None


def _sample(n: int, k: int) -> list[int]:
    return sorted(set(np.linspace(0, n - 1, min(n, k)).round().astype(int).tolist()))


def _gif_palette(samples: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A 255-colour palette from the opaque pixels of sample frames (index 255 stays free
    for transparency), and a 32x32x32 lookup from 5-bit RGB to the nearest entry."""
    from PIL import Image

    px = np.concatenate([s[..., :3][s[..., 3] >= GIF_ALPHA_THRESHOLD] for s in samples])
    if len(px) == 0:
        px = np.zeros((1, 3), np.uint8)
    if len(px) > 200_000:  # plenty for a palette; keeps quantizing fast
        px = px[np.random.default_rng(0).choice(len(px), 200_000, replace=False)]
    q = Image.fromarray(px[None, :, :]).quantize(255, method=Image.Quantize.MEDIANCUT)
    n = len(q.getcolors(256))
    pal = np.array(q.getpalette()[: 3 * n], np.float32).reshape(-1, 3)
    grid = (np.arange(32, dtype=np.float32) * 8 + 4)
    cube = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3)
    # Nearest palette colour per cube cell: |c - p|^2 = |c|^2 - 2 c.p + |p|^2, and |c|^2
    # does not change the argmin, so one matrix product does it (~20x faster than pairs).
    d = (pal * pal).sum(1)[None, :] - 2.0 * (cube @ pal.T)
    lut = d.argmin(1).astype(np.uint8)
    palette = np.zeros((256, 3), np.uint8)
    palette[:n] = pal.astype(np.uint8)
    return lut.reshape(32, 32, 32), palette


def _gif_frame(rgba: np.ndarray, lut: np.ndarray, palette: np.ndarray):
    from PIL import Image

    c = rgba[..., :3] >> 3
    idx = lut[c[..., 0], c[..., 1], c[..., 2]]
    idx[rgba[..., 3] < GIF_ALPHA_THRESHOLD] = 255
    im = Image.fromarray(idx, "P")
    im.putpalette(palette.reshape(-1).tolist())
    im.info["transparency"] = 255
    return im
