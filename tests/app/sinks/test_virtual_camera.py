"""The virtual camera path end to end through pyvirtualcam, with a backend registered via
pyvirtualcam.register_backend standing in for the device (the true system edge)."""
from __future__ import annotations

import glob
import platform
import statistics
import time

import cv2
import numpy as np
import pytest
import pyvirtualcam
from pyvirtualcam.camera import BACKENDS

from app.sinks import create_sink
from app.sinks.virtual_camera import (
    VirtualCameraConfig, VirtualCameraSink, VirtualCameraUnavailable, no_backend_message)
from app.sinks.compose import KEY_COLOURS
from tests.app.sinks.conftest import RecordingBackend


class MissingV4l2Backend:
    """Fails exactly as pyvirtualcam's Linux backend does without the kernel module."""

    def __init__(self, **kw):
        raise RuntimeError("No v4l2 loopback device found at /dev/video[0-99]. "
                           "Did you run 'modprobe v4l2loopback'?")


@pytest.fixture
def test_backend():
    RecordingBackend.instances.clear()
    pyvirtualcam.register_backend("omokage-test", RecordingBackend)
    pyvirtualcam.register_backend("omokage-missing", MissingV4l2Backend)
    yield RecordingBackend
    BACKENDS.pop("omokage-test", None)
    BACKENDS.pop("omokage-missing", None)


def produce(sink, make_rendered, seconds: float, fps: float) -> list[float]:
    """A pipeline stand-in: renders at `fps`, returns how long each send() took (s)."""
    costs = []
    t_end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < t_end:
        f = make_rendered(i)
        t0 = time.perf_counter()
        sink.send(f)
        costs.append(time.perf_counter() - t0)
        i += 1
        time.sleep(1.0 / fps)
    return costs


def test_frames_arrive_at_requested_size_rate_and_background(test_backend, make_rendered):
    cfg = VirtualCameraConfig(enabled=True, width=640, height=360, fps=20, background="magenta",
                              backend="omokage-test")
    sink = create_sink("virtual_camera", cfg)
    sink.open()
    assert sink.device == "omokage-test-cam"
    # The pipeline runs faster than the camera: the sink must drop, not queue.
    costs = produce(sink, make_rendered, seconds=1.5, fps=50)
    sink.close()
    cam = test_backend.instances[0]
    assert cam.closed
    assert (cam.width, cam.height) == (640, 360)
    assert all(f.shape == (360, 640, 3) for f in cam.frames)
    span = cam.times[-1] - cam.times[0]
    rate = (len(cam.frames) - 1) / span
    assert 16 <= rate <= 23, rate
    assert statistics.median(costs) < 0.001 and max(costs) < 0.05  # never waits for the camera
    assert sink.frames_dropped > 0
    last = cam.frames[-1]
    # Letterbox bars and the area around the character show the key colour exactly.
    assert tuple(last[5, 5]) == KEY_COLOURS["magenta"]
    assert tuple(last[180, 100]) == KEY_COLOURS["magenta"]  # left bar (character is 360 wide)
    # The character is drawn: the hair colour appears in the middle.
    hair = np.all(np.abs(last.astype(int) - (90, 60, 160)) < 6, axis=2)
    assert hair[:, 140:500].sum() > 1000
    # The picture follows the pipeline (the head moves between frames).
    changed = [np.abs(a.astype(int) - b).max() > 50 for a, b in zip(cam.frames, cam.frames[1:])]
    assert sum(changed) >= 5


def test_mirror_and_image_background(test_backend, make_rendered, tmp_path, draw):
    bg = np.zeros((90, 160, 3), np.uint8)
    bg[:, :80] = (0, 0, 255)  # BGR red on the left half, blue on the right
    bg[:, 80:] = (255, 0, 0)
    cv2.imwrite(str(tmp_path / "bg.png"), bg)
    outs = {}
    for mirror in (False, True):
        test_backend.instances.clear()
        cfg = VirtualCameraConfig(width=320, height=180, fps=30, background="image",
                                  image_path=str(tmp_path / "bg.png"), mirror=mirror,
                                  backend="omokage-test")
        sink = VirtualCameraSink(cfg)
        sink.open()
        sink.send(make_rendered(0))
        deadline = time.time() + 3
        while not test_backend.instances[0].frames and time.time() < deadline:
            time.sleep(0.01)
        sink.close()
        outs[mirror] = test_backend.instances[0].frames[-1]
    plain, mirrored = outs[False], outs[True]
    assert tuple(plain[2, 2]) == (255, 0, 0) and tuple(plain[2, 317]) == (0, 0, 255)
    # The hair lock sits on the image's left; mirrored it sits on the right.
    hair = lambda im: np.all(np.abs(im.astype(int) - (90, 60, 160)) < 8, axis=2)
    left_lock = hair(plain)[20:80, 160 - 60:160 - 35].mean()
    right_lock = hair(mirrored)[20:80, 160 + 35:160 + 60].mean()
    assert left_lock > 0.5 and right_lock > 0.5
    assert hair(mirrored)[20:80, 160 - 60:160 - 35].mean() < 0.1


def test_no_backend_gives_the_users_fix_and_pipeline_keeps_running(test_backend, make_rendered):
    errors = []
    broken = VirtualCameraSink(VirtualCameraConfig(backend="omokage-missing"), on_error=errors.append)
    with pytest.raises(VirtualCameraUnavailable) as exc:
        broken.open()
    msg = str(exc.value)
    fix = {"Linux": "modprobe v4l2loopback", "Windows": "OBS", "Darwin": "OBS"}[platform.system()]
    assert fix in msg and "No virtual camera is available" in msg
    assert "No v4l2 loopback device found" in msg  # pyvirtualcam's own detail is kept
    # The pipeline keeps feeding every output: the broken one ignores frames, others work.
    working = VirtualCameraSink(VirtualCameraConfig(width=64, height=64, fps=30, backend="omokage-test"))
    working.open()
    both = type("Both", (), {"send": lambda self, f: (broken.send(f), working.send(f))})()
    costs = produce(both, make_rendered, seconds=0.5, fps=30)
    working.close()
    broken.close()
    assert len(costs) >= 10 and statistics.median(costs) < 0.001 and max(costs) < 0.05
    assert len(test_backend.instances[0].frames) >= 8


def test_unknown_backend_name_is_explained(test_backend):
    with pytest.raises(VirtualCameraUnavailable, match="does not exist here.*omokage-test"):
        VirtualCameraSink(VirtualCameraConfig(backend="nope")).open()


@pytest.mark.skipif(platform.system() != "Linux" or bool(glob.glob("/dev/video*")),
                    reason="needs a Linux machine without a v4l2loopback device")
def test_real_registry_without_device_names_modprobe(test_backend):
    BACKENDS.pop("omokage-test")
    BACKENDS.pop("omokage-missing")
    with pytest.raises(VirtualCameraUnavailable, match="modprobe v4l2loopback"):
        VirtualCameraSink(VirtualCameraConfig()).open()


def test_os_specific_messages():
    assert "modprobe v4l2loopback" in no_backend_message("Linux")
    assert "OBS Studio" in no_backend_message("Windows") and "Start Virtual Camera" in no_backend_message("Windows")
    assert "System Settings" in no_backend_message("Darwin")


def test_config_round_trip_and_validation():
    cfg = VirtualCameraConfig(enabled=True, width=1920, height=1080, fps=60, background="color",
                              color=(10, 20, 30), mirror=True, backend="obs")
    assert VirtualCameraConfig.from_dict(cfg.to_dict()) == cfg
    assert VirtualCameraConfig.from_dict({**cfg.to_dict(), "future_key": 1}) == cfg
    with pytest.raises(ValueError, match="use one of green, magenta"):
        VirtualCameraConfig(background="blue").validate()
    with pytest.raises(ValueError, match="needs an image file"):
        VirtualCameraConfig(background="image").validate()
    with pytest.raises(ValueError, match="out of range"):
        VirtualCameraConfig(width=5).validate()


@pytest.mark.parametrize("size, mirror", [((512, 512), False), ((512, 512), True),
                                          ((1280, 720), False), ((640, 360), True)])
def test_compositor_matches_a_plain_float_blend(size, mirror, draw):
    from app.sinks.compose import Compositor

    rgba = draw(3)
    w, h = size
    rng = np.random.default_rng(1)
    bg = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    got = Compositor(bg, mirror=mirror)(rgba)
    # Reference: resize premultiplied colour in float, blend in float, no cropping tricks.
    side = min(w, h)
    f = rgba.astype(np.float64) / 255
    pm = np.concatenate([f[..., :3] * f[..., 3:], f[..., 3:]], axis=2).astype(np.float32)
    if side != 512:
        pm = cv2.resize(pm, (side, side), interpolation=cv2.INTER_AREA if side < 512 else cv2.INTER_LINEAR)
    if mirror:
        pm = pm[:, ::-1]
    ref = bg.astype(np.float64) / 255
    x, y = (w - side) // 2, (h - side) // 2
    ref[y:y + side, x:x + side] = pm[..., :3] + ref[y:y + side, x:x + side] * (1 - pm[..., 3:])
    diff = np.abs(got.astype(int) - np.round(ref * 255).astype(int))
    assert diff.max() <= 3 and diff.mean() < 0.1
