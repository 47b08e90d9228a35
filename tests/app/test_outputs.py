"""The output manager on real sinks: a virtual camera through pyvirtualcam with registered
test backends (one that keeps the device, one that dies mid-stream), a real clip recorder
that stops at its time limit (the clip decoded back), and a sink that cannot open."""
from __future__ import annotations

import threading
import time

import pytest
import pyvirtualcam
from PIL import Image
from pyvirtualcam.camera import BACKENDS

from app.frames import FrameMeta, RenderedFrame
from app.outputs import OutputManager, OutputState
from app.sinks import SinkError
from app.sinks.clips import ClipConfig, ClipRecorder
from app.sinks.virtual_camera import VirtualCameraConfig, VirtualCameraSink
from tests.app.sinks.conftest import draw_character


class Device:
    """A virtual camera device that only one program may hold at a time."""
    held = 0
    most_held = 0
    opened = 0
    fail_after: int | None = None  # frames until the device "vanishes"
    lock = threading.Lock()

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        with Device.lock:
            if Device.held:
                raise RuntimeError("device busy: another program holds it")
            Device.held += 1
            Device.opened += 1
            Device.most_held = max(Device.most_held, Device.held)
        time.sleep(0.05)  # opening a device takes a moment
        self.sent = 0

    def send(self, frame):
        self.sent += 1
        if Device.fail_after is not None and self.sent > Device.fail_after:
            raise OSError("No such device")

    def close(self):
        with Device.lock:
            Device.held -= 1

    def device(self):
        return "test-device"

    def native_fourcc(self):
        return None


@pytest.fixture
def device():
    Device.held = Device.most_held = Device.opened = 0
    Device.fail_after = None
    pyvirtualcam.register_backend("omokage-device", Device)
    yield Device
    BACKENDS.pop("omokage-device", None)


class Recorder:
    """Every status the manager published, in order."""

    def __init__(self) -> None:
        self.seen = []

    def __call__(self, status) -> None:
        self.seen.append(status)

    def states(self, name):
        return [s.state for s in self.seen if s.name == name]


def wait_for(cond, timeout=20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def make_factory(tmp_path, clip_config=None, fail=()):
    def factory(name, hooks):
        if name in fail:
            raise SinkError(f"{name} cannot open here")
        if name == "virtual_camera":
            cfg = VirtualCameraConfig(enabled=True, width=64, height=64, fps=100,
                                      backend="omokage-device")
            return VirtualCameraSink(cfg, on_error=hooks.error)
        return ClipRecorder(clip_config or ClipConfig(format="apng"), tmp_path / "clip",
                            on_error=hooks.error, on_finished=hooks.finished)
    return factory


def test_quick_toggles_never_hold_two_cameras(device, tmp_path):
    seen = Recorder()
    m = OutputManager(make_factory(tmp_path), ["virtual_camera"], on_status=seen)
    for enabled in (True, False, True, True, False, True):  # a user hammering Ctrl+Shift+V
        m.request("virtual_camera", enabled)
    assert m.wait_idle(20)
    assert device.most_held == 1 and device.held == 1 and device.opened == 3
    assert m.status("virtual_camera").state == OutputState.ON
    assert m.status("virtual_camera").info == "test-device"
    assert seen.states("virtual_camera") == ["opening", "on", "off", "opening", "on", "off",
                                             "opening", "on"]
    m.close()
    assert device.held == 0 and m.status("virtual_camera").state == OutputState.OFF


def test_a_camera_that_dies_is_shown_failed_and_released(device, tmp_path):
    device.fail_after = 3
    seen = Recorder()
    sinks = []
    m = OutputManager(make_factory(tmp_path), ["virtual_camera"], on_status=seen,
                      on_sinks=sinks.append)
    m.request("virtual_camera", True)
    assert m.wait_idle(20) and sinks[-1]  # the pipeline got the camera to send to
    cam = sinks[-1][0]
    cam.send(RenderedFrame(draw_character(0, 64), FrameMeta(0, time.monotonic())))
    assert wait_for(lambda: m.status("virtual_camera").state == OutputState.FAILED)
    st = m.status("virtual_camera")
    assert "stopped" in st.message and "No such device" in st.message and not st.active
    assert sinks[-1] == [] and m.sinks() == {} and device.held == 0
    m.request("virtual_camera", True)  # turning it on again works
    assert m.wait_idle(20) and m.status("virtual_camera").state == OutputState.ON
    m.close()


def test_an_output_that_cannot_open_is_failed_then_off(tmp_path):
    seen = Recorder()
    m = OutputManager(make_factory(tmp_path, fail=("virtual_camera",)),
                      ["virtual_camera", "clip_recorder"], on_status=seen)
    m.request("virtual_camera", True)
    assert m.wait_idle(10)
    st = m.status("virtual_camera")
    assert st.state == OutputState.FAILED and st.message == "virtual_camera cannot open here"
    assert m.sinks() == {}
    m.request("virtual_camera", False)  # the user unticks it: plain off
    assert m.wait_idle(10) and m.status("virtual_camera").state == OutputState.OFF
    assert seen.states("virtual_camera") == ["opening", "failed", "off"]
    with pytest.raises(KeyError, match="unknown output 'ndi'"):
        m.request("ndi", True)
    m.close()


def test_a_recording_that_reaches_its_limit_finishes_by_itself(tmp_path):
    seen = Recorder()
    sinks = []
    m = OutputManager(make_factory(tmp_path, ClipConfig(format="apng", fps=10, max_seconds=0.5)),
                      ["clip_recorder"], on_status=seen, on_sinks=sinks.append)
    m.request("clip_recorder", True)
    assert m.wait_idle(10)
    assert m.status("clip_recorder").info == str(tmp_path / "clip.apng")
    rec = sinks[-1][0]
    for i in range(12):  # 1.1 s of frames on the capture clock; the limit is 0.5 s
        rec.send(RenderedFrame(draw_character(i, 128), FrameMeta(i, 50.0 + i / 10)))
        time.sleep(0.01)
    assert wait_for(lambda: m.status("clip_recorder").state == OutputState.FINISHED)
    st = m.status("clip_recorder")
    assert st.message == f"Clip saved to {tmp_path / 'clip.apng'}" and not st.active
    assert sinks[-1] == [] and rec.reached_limit
    with Image.open(tmp_path / "clip.apng") as im:
        assert im.n_frames == 6 and im.info.get("loop") == 0  # 0.0 .. 0.5 s at 10 fps
    # A recording the user stops is plain "off"; its clip is still saved.
    m.request("clip_recorder", True)
    assert m.wait_idle(10) and m.status("clip_recorder").state == OutputState.ON
    rec = sinks[-1][0]
    rec.send(RenderedFrame(draw_character(0, 128), FrameMeta(0, 60.0)))
    m.request("clip_recorder", False)
    assert m.wait_idle(10) and rec.wait(20) == tmp_path / "clip-2.apng"
    m.request("clip_recorder", False)  # handled after the recorder's "finished" report...
    assert m.wait_idle(10)
    assert m.status("clip_recorder").state == OutputState.OFF  # ...which changed nothing
    assert seen.states("clip_recorder") == ["opening", "on", "finished", "opening", "on", "off"]
    # Closing the manager (the window closes) while recording saves the clip before it returns.
    m.request("clip_recorder", True)
    assert m.wait_idle(10)
    sinks[-1][0].send(RenderedFrame(draw_character(0, 128), FrameMeta(0, 70.0)))
    m.close()
    with Image.open(tmp_path / "clip-3.apng") as im:
        assert im.n_frames == 1


def test_the_controller_shows_only_the_truth(device, tmp_path):
    """Through the window's controller: a recording in the chosen format says where it went,
    a dying camera is reported and shown off, and hammering the toggle opens one camera."""
    from app.controller import Controller, ControllerOptions
    from app.settings_schema import TEXT_RULES
    from app.sinks.clips import FORMATS
    from tests.app.sinks.test_clips import decode

    rule = TEXT_RULES[("OutputSettings", "record_format")][0]
    assert all(rule(f) for f in FORMATS) and not rule("avi")  # saved choices match the writer
    c = Controller(ControllerOptions(settings_dir=tmp_path / "cfg"))
    notices, shown = [], []
    c.on_notice.append(notices.append)
    c.on_outputs.append(shown.append)
    c.settings.outputs.record_dir = str(tmp_path)
    c.set_record_format("webm")
    with pytest.raises(ValueError, match="unknown clip format 'avi'"):
        c.set_record_format("avi")
    c.set_output("clip_recorder", True)
    assert c.outputs.wait_idle(10) and c.output_enabled("clip_recorder")
    assert shown[-1]["clip_recorder"] and c.output_info("clip_recorder").endswith(".webm")
    rec = c.sinks["clip_recorder"]
    for i in range(5):
        rec.send(RenderedFrame(draw_character(i, 128), FrameMeta(i, 10.0 + i / 25)))
    c.set_output("clip_recorder", False)
    assert c.outputs.wait_idle(10) and not shown[-1]["clip_recorder"]
    saved = rec.wait(20)
    assert saved.suffix == ".webm" and any(n.message == f"Clip saved to {saved}" for n in notices)
    got = decode(saved)
    assert len(got) == 5 and got[0][..., 3].min() == 0 and got[0][..., 3].max() == 255

    c.set_virtual_camera_options(backend="omokage-device", width=64, height=64)
    for enabled in (True, False, True, True):
        c.set_output("virtual_camera", enabled)
    assert c.outputs.wait_idle(20) and device.most_held == 1 and c.output_enabled("virtual_camera")
    assert shown[-1]["virtual_camera"] and c.settings.outputs.virtual_camera
    device.fail_after = 0
    c.sinks["virtual_camera"].send(RenderedFrame(draw_character(0, 64), FrameMeta(0, 1.0)))
    assert wait_for(lambda: not c.output_enabled("virtual_camera"))
    assert wait_for(lambda: shown[-1]["virtual_camera"] is False)
    assert c.output_status("virtual_camera").state == OutputState.FAILED
    assert [n.level for n in notices if "No such device" in n.message] == ["error"]  # once
    assert not c.settings.outputs.virtual_camera and device.held == 0
    c.shutdown()
