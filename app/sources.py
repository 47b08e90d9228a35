"""Frame sources: camera (OpenCV), video file, still image, none.

Every frame is stamped with app.frames.now() the moment it is captured, so latency is
measured from there. A source's read() blocks until the next frame is due and returns None
when the source has ended (video without loop). Problems the user can act on raise
SourceError with a message that says what to do.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Protocol

import cv2
import numpy as np

from app.frames import now

log = logging.getLogger("omokage.sources")

class SourceError(RuntimeError):
    """A source cannot deliver frames (missing, busy, unplugged, unreadable file)."""


@dataclass
class CapturedFrame:
    bgr: Optional[np.ndarray]  # HxWx3 uint8, None for the "none" source (a clock tick)
    capture_ts: float  # now() at capture
    index: int


class Source(Protocol):
    name: str
    fps: float

    def open(self) -> None: ...

    def read(self) -> Optional[CapturedFrame]: ...

    def close(self) -> None: ...


class _Pacer:
    """Sleeps until the next frame of a fixed-rate clock is due; interruptible."""

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self.next = None
        self.wake = threading.Event()

    def wait(self) -> None:
        t = now()
        if self.next is None or t - self.next > 0.25:  # start, or fell far behind: resync
            self.next = t
        delay = self.next - t
        if delay > 0:
            self.wake.wait(delay)
        self.next += self.period


@dataclass
class CameraInfo:
    index: int
    name: str

    def label(self) -> str:
        return f"{self.index}: {self.name}"


def _os_cameras() -> dict[int, str] | None:
    """Index -> name of the cameras the operating system lists (cv2-enumerate-cameras), in
    the numbering of the backend CameraSource opens them with; None where it cannot list."""
    if sys.platform.startswith("win"):
        backend = cv2.CAP_DSHOW
    elif sys.platform == "darwin":
        backend = cv2.CAP_AVFOUNDATION
    elif sys.platform.startswith("linux"):
        backend = cv2.CAP_V4L2
    else:
        return None
    try:
        from cv2_enumerate_cameras import enumerate_cameras

        return {c.index: c.name for c in enumerate_cameras(backend)}
    except Exception:  # noqa: BLE001 - its Windows part is compiled, its macOS part needs pyobjc
        return None


def list_cameras(max_index: int = 8, probe: bool = True) -> list[CameraInfo]:
    """Cameras that can be opened, with the names the operating system gives them (Linux,
    Windows, macOS). Where it cannot list them, indices 0..max_index-1 are tried and the
    cameras are called "Camera N". Probing opens each device briefly (can take a second)."""
    names = _os_cameras()
    candidates = sorted(names) if names is not None else list(range(max_index))
    names = names or {}
    found = []
    quiet = _quiet_opencv()
    try:
        for i in candidates:
            if probe:
                cap = CameraSource._default_capture(i)
                ok = cap.isOpened()
                cap.release()
                if not ok:
                    continue
            found.append(CameraInfo(i, names.get(i, f"Camera {i}")))
    finally:
        quiet()
    return found


def _quiet_opencv() -> Callable[[], None]:
    """Silence OpenCV's logging of failed opens while probing; returns the restorer."""
    try:
        log = cv2.utils.logging
        old = log.getLogLevel()
        log.setLogLevel(log.LOG_LEVEL_SILENT)
        return lambda: log.setLogLevel(old)
    except AttributeError:
        return lambda: None


def resolve_camera(device: int | str) -> int:
    """An index from "0", 0 or a (part of a) camera name."""
    if isinstance(device, int):
        return device
    text = str(device).strip()
    if text.isdigit():
        return int(text)
    for idx, name in sorted((_os_cameras() or {}).items()):
        if text.lower() in name.lower():
            return idx
    raise SourceError(
        f"no camera named {text!r}; available: "
        + (", ".join(c.label() for c in list_cameras(probe=False)) or "none found")
    )


class CameraSource:
    """A webcam through OpenCV with a one-frame driver buffer, so read() returns a fresh
    frame instead of one queued seconds ago. `capture_factory` is the OpenCV edge
    (cv2.VideoCapture by default); tests pass a factory that opens files instead."""

    name = "camera"

    def __init__(self, device: int | str = 0, width: int = 640, height: int = 480,
                 fps: float = 30.0,
                 capture_factory: Callable[[int], "cv2.VideoCapture"] | None = None,
                 max_failed_reads: int = 15) -> None:
        self.device = device
        self.width, self.height, self.fps = width, height, float(fps)
        self._factory = capture_factory or self._default_capture
        self._cap = None
        self._index = 0
        self.max_failed_reads = max_failed_reads

    @staticmethod
    def _default_capture(index: int) -> "cv2.VideoCapture":
        if sys.platform.startswith("win"):
            return cv2.VideoCapture(index, cv2.CAP_DSHOW)  # MSMF opens slowly
        return cv2.VideoCapture(index)

    def open(self) -> None:
        index = resolve_camera(self.device)
        quiet = _quiet_opencv()  # OpenCV logs every failed open; the message below is ours
        try:
            cap = self._factory(index)
        finally:
            quiet()
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise SourceError(
                f"camera {self.device!r} could not be opened: it is missing, unplugged or "
                "used by another program. Close other apps using it or pick another camera.")
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        cap.set(cv2.CAP_PROP_FPS, self.fps)
        ok, frame = cap.read()
        if not ok or frame is None:
            cap.release()
            raise SourceError(
                f"camera {self.device!r} opened but gives no picture; it may be busy in "
                "another program. Close that program or pick another camera.")
        self._cap = cap

    def read(self) -> Optional[CapturedFrame]:
        if self._cap is None:
            raise SourceError("camera is not open")
        for _ in range(self.max_failed_reads):
            ok, frame = self._cap.read()
            ts = now()
            if ok and frame is not None:
                self._index += 1
                if frame.ndim == 2:
                    frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
                return CapturedFrame(frame, ts, self._index)
            time.sleep(0.02)
        raise SourceError(f"camera {self.device!r} stopped delivering frames (unplugged?)")

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class VideoFileSource:
    """A video file. realtime=True paces frames at `fps` (the file's own rate unless given),
    like a camera; realtime=False delivers every frame as fast as they are read (offline
    render). Frames [start, stop) only; loop=True starts again at the end."""

    name = "video"

    def __init__(self, path: str | Path, realtime: bool = True, fps: float | None = None,
                 start: int = 0, stop: int | None = None, loop: bool = False) -> None:
        self.path = Path(path)
        self.realtime, self.loop = realtime, loop
        self.start, self.stop = start, stop
        self._fps_override = fps
        self.fps = float(fps or 30.0)
        self.frame_count = 0
        self._cap = None
        self._pos = 0
        self._pacer: _Pacer | None = None
        # The first frame, read by open(): a one-frame video or a still image cannot be
        # sought back to frame 0, so it is delivered from here (and again on each loop).
        self._first: np.ndarray | None = None
        self._pending = False
        self._declared = 0  # the frame count the file's header gives (0: unknown)
        # Why the video ended before the length its header declares (a truncated file), or
        # None; said once per open as a warning, so a command or the window can tell.
        self.ended_early: str | None = None

    def open(self) -> None:
        if self.start < 0:
            raise SourceError(f"start frame {self.start} is negative; the first frame is 0")
        if self.path.is_dir():
            raise SourceError(f"{self.path} is a folder, not a video file; choose a video "
                              "(MP4, WebM, MOV...)")
        if not self.path.is_file():
            raise SourceError(f"video file not found: {self.path}")
        if self.path.stat().st_size == 0:
            raise SourceError(f"cannot read video {self.path}: the file is empty (0 bytes); "
                              "get a fresh copy of it")
        cap = cv2.VideoCapture(str(self.path))
        ok, first = cap.read() if cap.isOpened() else (False, None)
        if not ok:
            cap.release()
            raise SourceError(
                f"cannot read video {self.path}: not a video OpenCV can decode (the file "
                "may be damaged or incomplete, or in a format OpenCV lacks: try converting "
                "it to MP4/H.264)")
        file_fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(self._fps_override or (file_fps if 1 <= file_fps <= 240 else 30.0))
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))  # <= 0: unknown (e.g. a still image)
        if total > 0 and self.start >= total:
            cap.release()
            raise SourceError(
                f"start frame {self.start} is past the end of {self.path.name}: it has "
                f"{total} frames ({total / self.fps:.1f} s at {self.fps:g} fps), numbered "
                f"0..{total - 1}")
        if total <= 0 and self.start > 0:
            cap.release()
            raise SourceError(f"{self.path.name} does not tell its length (a still image?); "
                              "it can only be read from frame 0")
        stop = total if self.stop is None or total <= 0 else min(self.stop, total)
        self.frame_count = max(0, stop - self.start)  # 0: unknown
        self._declared, self.ended_early = max(total, 0), None
        if self.start > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, self.start)
            self._first, self._pending = None, False
        else:
            self._first, self._pending = first, True
        self._cap, self._pos = cap, self.start
        self._pacer = _Pacer(self.fps) if self.realtime else None

    def read(self) -> Optional[CapturedFrame]:
        if self._cap is None:
            raise SourceError("video is not open")
        if self.stop is not None and self._pos >= self.stop:
            if not self._rewind():
                return None
        if self._pacer is not None:
            self._pacer.wait()
        if self._pending:
            ok, frame, self._pending = True, self._first, False
        else:
            ok, frame = self._cap.read()
        if not ok:
            self._check_early_end()
            if not self._rewind():
                return None
            ok, frame = self._cap.read()
            if not ok and self._first is not None:  # cannot seek back: repeat frame 0
                ok, frame = True, self._first
            if not ok:
                return None
        ts = now()
        self._pos += 1
        return CapturedFrame(frame, ts, self._pos - self.start)

    def _check_early_end(self) -> None:
        """The file stopped giving frames before the end of the range: a truncated video
        (an incomplete download or copy) still plays up to the damage, so say so instead of
        silently rendering a shorter clip. The header's count is exact for MP4/MOV and an
        estimate for some formats, hence the margin."""
        end = self.start + self.frame_count
        if self.ended_early is not None or not self.frame_count:
            return
        missing = end - self._pos
        if missing > max(2, 0.02 * self.frame_count):
            self.ended_early = (
                f"{self.path.name} ended at frame {self._pos} although its header declares "
                f"{self._declared} frames: the file may be truncated (an incomplete download "
                "or copy?); the frames after that were not read")
            log.warning("%s", self.ended_early)

    def _rewind(self) -> bool:
        if not self.loop:
            return False
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, self.start)
        self._pos = self.start
        return True

    def close(self) -> None:
        if self._pacer is not None:
            self._pacer.wake.set()
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class ImageSource:
    """A still photo of a face, delivered at `fps` like a camera that never moves."""

    name = "image"

    def __init__(self, path: str | Path, fps: float = 30.0) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self._bgr: np.ndarray | None = None
        self._index = 0
        self._pacer = _Pacer(self.fps)

    def open(self) -> None:
        bgr = cv2.imread(str(self.path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise SourceError(f"cannot read image {self.path}: missing or not an image")
        self._bgr = bgr

    def read(self) -> Optional[CapturedFrame]:
        if self._bgr is None:
            raise SourceError("image is not open")
        self._pacer.wait()
        self._index += 1
        return CapturedFrame(self._bgr, now(), self._index)

    def close(self) -> None:
        self._pacer.wake.set()


class NoSource:
    """No input: a clock at `fps` so the idle layer (blinks, breathing) and sliders still
    drive the character."""

    name = "none"

    def __init__(self, fps: float = 30.0) -> None:
        self.fps = float(fps)
        self._index = 0
        self._pacer = _Pacer(self.fps)

    def open(self) -> None:
        pass

    def read(self) -> Optional[CapturedFrame]:
        self._pacer.wait()
        self._index += 1
        return CapturedFrame(None, now(), self._index)

    def close(self) -> None:
        self._pacer.wake.set()


SOURCES: dict[str, type] = {
    "camera": CameraSource,
    "video": VideoFileSource,
    "image": ImageSource,
    "none": NoSource,
}

_IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def make_source(spec: str, **kw) -> Source:
    """A source from a short spec: "none", "camera:0", "camera:Integrated", "video:PATH",
    "image:PATH", a bare camera index, or a bare file path (video or image by extension)."""
    kind, _, arg = spec.partition(":")
    if kind in SOURCES and (arg or kind == "none"):
        if kind == "none":
            return NoSource(**kw)
        if kind == "camera":
            return CameraSource(arg, **kw)
        return SOURCES[kind](arg, **kw)
    if spec.strip().isdigit():
        return CameraSource(int(spec), **kw)
    if os.path.exists(spec):
        if Path(spec).suffix.lower() in _IMAGE_EXT:
            return ImageSource(spec, **kw)
        return VideoFileSource(spec, **kw)
    raise SourceError(
        f"unknown source {spec!r}: use none, camera:INDEX, camera:NAME, video:PATH or image:PATH")
