"""Virtual camera output through pyvirtualcam (OBS Virtual Camera, v4l2loopback, ...).

Virtual cameras carry no alpha, so each frame is composited over a background: a key colour
(green or magenta, for a chroma-key filter), a solid colour or an image. A thread of the
sink's own sends at the configured rate, repeating the last picture when the pipeline is
slower and taking only the newest one when it is faster, so the caller never waits.
"""
from __future__ import annotations

import platform
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any, Optional

import numpy as np

from app.frames import OneSlot, RenderedFrame, now
from app.sinks import ErrorCallback, SinkError
from app.sinks.compose import KEY_COLOURS, Compositor, load_background_image, solid

BACKGROUND_KINDS = ("green", "magenta", "color", "image")


class VirtualCameraUnavailable(SinkError):
    """No virtual camera could be opened; the message names the fix for this OS."""


@dataclass
class VirtualCameraConfig:
    enabled: bool = False
    width: int = 1280
    height: int = 720
    fps: float = 30.0
    background: str = "green"  # one of BACKGROUND_KINDS
    color: tuple[int, int, int] = (0, 255, 0)  # used when background == "color"
    image_path: Optional[str] = None  # used when background == "image"
    mirror: bool = False
    backend: Optional[str] = None  # pyvirtualcam backend name; None tries every one
    device: Optional[str] = None

    def validate(self) -> "VirtualCameraConfig":
        if not (16 <= int(self.width) <= 7680 and 16 <= int(self.height) <= 4320):
            raise ValueError(f"virtual camera size {self.width}x{self.height} is out of range; "
                             "use 16x16 up to 7680x4320, e.g. 1280x720")
        if not 1 <= float(self.fps) <= 120:
            raise ValueError(f"virtual camera fps {self.fps} is out of range; use 1 to 120")
        if self.background not in BACKGROUND_KINDS:
            raise ValueError(f"unknown background {self.background!r}; "
                             f"use one of {', '.join(BACKGROUND_KINDS)}")
        if len(self.color) != 3 or not all(0 <= int(c) <= 255 for c in self.color):
            raise ValueError(f"background colour {self.color!r} must be three values 0-255")
        if self.background == "image" and not self.image_path:
            raise ValueError("background 'image' needs an image file; choose one")
        return self

    def background_rgb(self) -> np.ndarray:
        """The background picture (HxWx3 RGB) this config asks for."""
        self.validate()
        if self.background == "image":
            return load_background_image(self.image_path, self.width, self.height)
        rgb = KEY_COLOURS.get(self.background, tuple(int(c) for c in self.color))
        return solid(self.width, self.height, rgb)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["color"] = list(self.color)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "VirtualCameraConfig":
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}  # ignore keys from newer versions
        if "color" in kw:
            kw["color"] = tuple(int(c) for c in kw["color"])
        return cls(**kw).validate()


def no_backend_message(system: str, detail: str = "") -> str:
    """What the user reads when no virtual camera can be opened on `system`."""
    if system == "Linux":
        fix = ("On Linux the virtual camera needs the v4l2loopback kernel module: install it "
               "(Debian/Ubuntu: sudo apt install v4l2loopback-dkms), then run "
               "'sudo modprobe v4l2loopback exclusive_caps=1 card_label=Omokage' "
               "and turn the virtual camera on again.")
    elif system == "Windows":
        fix = ("On Windows install OBS Studio (version 26 or newer), open it once and click "
               "'Start Virtual Camera', then stop it and turn the virtual camera on again here.")
    elif system == "Darwin":
        fix = ("On macOS install OBS Studio (version 30 or newer), click 'Start Virtual "
               "Camera' once and allow the camera extension in System Settings, then turn the "
               "virtual camera on again here.")
    else:
        fix = f"Virtual cameras are not supported on {system or 'this system'}."
    msg = f"No virtual camera is available. {fix} The preview keeps running meanwhile."
    if detail:
        msg += f"\nDetails: {detail.strip()}"
    return msg


class VirtualCameraSink:
    """Sends composited RGB frames to a pyvirtualcam camera from its own thread."""

    name = "virtual_camera"

    def __init__(self, config: VirtualCameraConfig, on_error: ErrorCallback | None = None) -> None:
        self.config = config.validate()
        self.on_error = on_error
        self._slot: OneSlot[RenderedFrame] = OneSlot()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._camera = None
        self.frames_received = 0
        self.frames_sent = 0
        self.last_latency_ms: float | None = None  # capture -> handed to the camera
        self.error: str | None = None

    @property
    def frames_dropped(self) -> int:
        return self._slot.dropped

    @property
    def is_open(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def device(self) -> str | None:
        return self._camera.device if self._camera is not None else None

    def open(self) -> None:
        import pyvirtualcam  # imported here so the app starts without the native module

        if self.is_open:
            return
        cfg = self.config
        try:
            background = cfg.background_rgb()
        except ValueError as e:
            raise SinkError(str(e)) from None
        if cfg.backend is not None and cfg.backend not in pyvirtualcam.camera.BACKENDS:
            known = ", ".join(pyvirtualcam.camera.BACKENDS) or "none"
            raise VirtualCameraUnavailable(
                no_backend_message(platform.system(),
                                   f"backend {cfg.backend!r} does not exist here (available: {known})"))
        try:
            self._camera = pyvirtualcam.Camera(
                cfg.width, cfg.height, cfg.fps, fmt=pyvirtualcam.PixelFormat.RGB,
                backend=cfg.backend, device=cfg.device)
        except Exception as e:  # pyvirtualcam joins every backend's failure in one RuntimeError
            self.error = no_backend_message(platform.system(), str(e))
            raise VirtualCameraUnavailable(self.error) from None
        self.error = None
        self._compose = Compositor(background, mirror=cfg.mirror)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="omokage-vcam", daemon=True)
        self._thread.start()

    def send(self, frame: RenderedFrame) -> None:
        # A no-op while closed, so a pipeline can keep calling it after a failed open().
        if self.is_open:
            self.frames_received += 1
            self._slot.put(frame)

    def close(self) -> None:
        self._stop.set()  # also wakes the thread's wait
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._camera is not None:
            self._camera.close()
            self._camera = None

    def _run(self) -> None:
        period = 1.0 / float(self.config.fps)
        picture: np.ndarray | None = None
        capture_ts = 0.0
        deadline = now()
        try:
            while not self._stop.is_set():
                item = self._slot.take(timeout=0)
                if item is not None:
                    picture = self._compose(item.rgba)
                    capture_ts = item.meta.capture_ts
                if picture is not None:
                    self._camera.send(picture)
                    self.frames_sent += 1
                    self.last_latency_ms = (now() - capture_ts) * 1000.0
                # Fixed-rate schedule; after a stall, restart it instead of sending a burst.
                deadline += period
                wait = deadline - now()
                if wait < -period:
                    deadline = now()
                elif wait > 0:
                    self._stop.wait(wait)
        except Exception as e:  # e.g. the device vanished: report it, stop only this sink
            self.error = f"The virtual camera stopped: {e}. Turn it on again to retry."
            if self.on_error is not None:
                self.on_error(self.error)
