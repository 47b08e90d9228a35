"""The controller's virtual camera (saved picture choices used when the sink opens, through
pyvirtualcam with a registered test backend) and its presets library."""
from __future__ import annotations

import threading

import pytest
import pyvirtualcam
from pyvirtualcam.camera import BACKENDS

from app.controller import Controller, ControllerOptions
from app.presets import BUILTIN_PRESETS, PresetError, PresetStore, preset_from_pose
from app.settings import SettingsStore, UserSettings
from tests.app.sinks.conftest import RecordingBackend, rendered


@pytest.fixture
def backend():
    RecordingBackend.instances.clear()
    pyvirtualcam.register_backend("omokage-kept", RecordingBackend)
    yield RecordingBackend
    BACKENDS.pop("omokage-kept", None)


def _wait_outputs(controller, action, timeout=10.0):
    done = threading.Event()
    states = []
    cb = lambda st: (states.append(st), done.set())
    controller.on_outputs.append(cb)
    action()
    assert done.wait(timeout), "the output did not answer"
    controller.on_outputs.remove(cb)
    return states[-1]


def _wait_for(cond, what, timeout=10.0):
    ev = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        ev.wait(0.05)
    raise AssertionError(what)


def _wait_frame(cam):
    _wait_for(lambda: bool(cam.frames), "no frame reached the virtual camera")
    return cam.frames[-1]


def test_controller_opens_the_virtual_camera_with_the_saved_choices(tmp_path, backend):
    cfg_dir = tmp_path / "config"
    s = UserSettings()
    s.outputs.vcam_width, s.outputs.vcam_height, s.outputs.vcam_fps = 640, 360, 20
    s.outputs.vcam_background, s.outputs.vcam_color = "color", "#2040c0"
    SettingsStore(cfg_dir).save_user(s)

    c = Controller(ControllerOptions(settings_dir=cfg_dir))  # a new launch reads the file
    notices = []
    c.on_notice.append(notices.append)
    state = _wait_outputs(c, lambda: c.set_output("virtual_camera", True))
    assert state["virtual_camera"], [n.message for n in notices]
    cam = backend.instances[-1]
    assert (cam.width, cam.height, cam.fps) == (640, 360, 20)
    c.sinks["virtual_camera"].send(rendered(0))
    frame = _wait_frame(cam)
    assert frame.shape == (360, 640, 3)
    assert tuple(frame[3, 3]) == (0x20, 0x40, 0xC0)  # the saved solid colour

    # Changing the picture reopens the running camera and is saved for the next launch.
    n = len(backend.instances)
    c.set_virtual_camera_options(background="magenta", width=1280, height=720)
    _wait_for(lambda: len(backend.instances) == n + 1 and "virtual_camera" in c.sinks
              and c.sinks["virtual_camera"].config.width == 1280, "not reopened")
    assert cam.closed
    cam2 = backend.instances[-1]
    assert (cam2.width, cam2.height) == (1280, 720)
    c.sinks["virtual_camera"].send(rendered(1))
    assert tuple(_wait_frame(cam2)[3, 3]) == (255, 0, 255)
    c.shutdown()
    saved, msg = SettingsStore(cfg_dir).load_user()
    assert msg is None and saved.outputs.virtual_camera is True
    assert (saved.outputs.vcam_background, saved.outputs.vcam_width) == ("magenta", 1280)


def test_chosen_backend_and_device_are_used_and_saved(tmp_path, backend):
    c = Controller(ControllerOptions(settings_dir=tmp_path))
    assert "omokage-kept" in c.virtual_camera_backends()
    c.set_virtual_camera_options(backend="omokage-kept", device="/dev/video42")
    state = _wait_outputs(c, lambda: c.set_output("virtual_camera", True))
    assert state["virtual_camera"]
    assert backend.instances[-1].device_asked == "/dev/video42"
    c.shutdown()
    saved, _ = SettingsStore(tmp_path).load_user()
    assert (saved.outputs.vcam_backend, saved.outputs.vcam_device) == ("omokage-kept", "/dev/video42")

    # A backend that is not on this system gives the fix, not a crash, and nothing opens.
    c = Controller(ControllerOptions(settings_dir=tmp_path))
    notices = []
    c.on_notice.append(notices.append)
    c.set_virtual_camera_options(backend="no-such-backend")
    state = _wait_outputs(c, lambda: c.set_output("virtual_camera", True))
    assert not state["virtual_camera"]
    assert any("no-such-backend" in n.message and "available" in n.message for n in notices)
    c.shutdown()


def test_bad_virtual_camera_choice_is_refused_with_a_message(tmp_path):
    c = Controller(ControllerOptions(settings_dir=tmp_path))
    notices = []
    c.on_notice.append(notices.append)
    c.set_virtual_camera_options(fps=500)
    assert c.settings.outputs.vcam_fps == 30  # the last good value stays
    assert notices and "fps 500" in notices[-1].message and "1 to 120" in notices[-1].message
    with pytest.raises(ValueError, match="unknown virtual camera option.*colour"):
        c.set_virtual_camera_options(colour="#ffffff")


def test_presets_library_is_builtins_plus_saved(tmp_path):
    c = Controller(ControllerOptions(settings_dir=tmp_path))
    assert set(BUILTIN_PRESETS) <= set(c.presets())
    PresetStore(tmp_path / "presets.json").save(
        preset_from_pose("grin", {"mouth_form": 0.9}, ["mouth_form"], hotkey="Ctrl+G"))
    lib = c.presets()
    assert lib["grin"].values == {"mouth_form": 0.9} and lib["grin"].hotkey == "Ctrl+G"
    with pytest.raises(PresetError, match="still loading"):
        c.save_preset("too early")


def test_preset_mode_is_saved_for_builtins_and_checked(tmp_path):
    c = Controller(ControllerOptions(settings_dir=tmp_path))
    held = c.set_preset_mode("smile", "hold")
    assert held.values == BUILTIN_PRESETS["smile"].values and held.mode == "hold"
    assert PresetStore(tmp_path / "presets.json").get("smile").mode == "hold"
    assert c.presets()["smile"].mode == "hold"
    with pytest.raises(PresetError, match="mode 'press' is not one of"):
        c.set_preset_mode("smile", "press")
    with pytest.raises(PresetError, match="no preset named 'nope'"):
        c.set_preset_mode("nope", "hold")
    assert c.set_preset_mode("smile", "toggle").mode == "toggle"


def test_deleting_a_saved_preset_brings_a_builtin_back_and_refuses_builtins(tmp_path):
    c = Controller(ControllerOptions(settings_dir=tmp_path))
    store = PresetStore(tmp_path / "presets.json")
    store.save(preset_from_pose("grin", {"mouth_form": 0.9}, ["mouth_form"]))
    c.set_preset_mode("smile", "hold")
    assert c.saved_preset_names() == ["grin", "smile"]
    assert c.delete_preset("grin") is None
    assert "grin" not in c.presets() and store.names() == ["smile"]
    assert c.delete_preset("smile") == BUILTIN_PRESETS["smile"]
    assert c.presets()["smile"].mode == BUILTIN_PRESETS["smile"].mode and store.names() == []
    with pytest.raises(PresetError, match="'smile' is built in; only presets you saved"):
        c.delete_preset("smile")
    with pytest.raises(PresetError, match="no preset named 'grin' to delete"):
        c.delete_preset("grin")


@pytest.mark.parametrize("saved, flag, ensemble", [(False, False, True), (True, False, False), (False, True, False)])
def test_single_pass_from_settings_or_options_turns_the_mirror_ensemble_off(tmp_path, saved, flag, ensemble):
    s = UserSettings()
    s.single_pass = saved
    SettingsStore(tmp_path).save_user(s)
    c = Controller(ControllerOptions(settings_dir=tmp_path, source="none", single_pass=flag))
    try:
        c.start(wait=True)
        assert c.pipeline is not None and c.pipeline.engine.mirror_ensemble is ensemble
    finally:
        c.shutdown()
