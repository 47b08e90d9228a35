"""Synthetic but real RGBA frames: a little character drawn with OpenCV on a transparent canvas."""
from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
import pyvirtualcam

from app.frames import FrameMeta, RenderedFrame, now

SKIN = (250, 220, 200)
HAIR = (90, 60, 160)


def draw_character(step: int = 0, size: int = 512) -> np.ndarray:
    """A head and body; `step` moves the head sideways and opens/closes the eyes.
    The character's hair lock sits on the image's left so mirroring is visible."""
    s = size / 512
    img = np.zeros((size, size, 4), np.uint8)
    dx = int(round(40 * s * np.sin(step * 0.7)))
    cv2.ellipse(img, (256 * size // 512, int(470 * s)), (int(150 * s), int(140 * s)), 0, 180, 360,
                (*HAIR, 255), -1, cv2.LINE_AA)
    c = (int(256 * s) + dx, int(150 * s))
    cv2.circle(img, c, int(90 * s), (*SKIN, 255), -1, cv2.LINE_AA)
    cv2.rectangle(img, (int(100 * s) + dx, int(60 * s)), (int(160 * s) + dx, int(260 * s)),
                  (*HAIR, 255), -1)  # hair lock on the image's left
    eye_h = max(1, int(20 * s * (0.5 + 0.5 * np.cos(step * 1.3))))
    for ex in (-35, 35):
        cv2.ellipse(img, (c[0] + int(ex * s), c[1] - int(10 * s)), (int(12 * s), eye_h), 0, 0, 360,
                    (30, 30, 60, 255), -1, cv2.LINE_AA)
    return img


def rendered(step: int, index: int | None = None, size: int = 512) -> RenderedFrame:
    return RenderedFrame(draw_character(step, size), FrameMeta(index if index is not None else step, now()))


@pytest.fixture
def frames():
    return [draw_character(i) for i in range(12)]


@pytest.fixture
def draw():
    return draw_character


@pytest.fixture
def make_rendered():
    return rendered


class RecordingBackend:
    """A device that keeps what pyvirtualcam hands it, like a consumer app would see it."""
    instances: list["RecordingBackend"] = []

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        if fourcc != pyvirtualcam.util.encode_fourcc(pyvirtualcam.PixelFormat.RGB.value):
            raise RuntimeError("test backend accepts RGB only")
        self.width, self.height, self.fps, self.device_asked = width, height, fps, device
        self.frames: list[np.ndarray] = []
        self.times: list[float] = []
        self.closed = False
        RecordingBackend.instances.append(self)

    def send(self, frame):
        self.frames.append(frame.reshape(self.height, self.width, 3).copy())
        self.times.append(time.perf_counter())

    def close(self):
        self.closed = True

    def device(self):
        return "omokage-test-cam"

    def native_fourcc(self):
        return None
