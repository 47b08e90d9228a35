"""Expression presets: validation, the JSON store (atomic, never clobbering a damaged file),
the live fade player and scripted pose sequences."""
from __future__ import annotations

import json

import pytest

from app.presets import (BUILTIN_PRESETS, Preset, PresetError, PresetPlayer, PresetStore,
                         ScriptStep, parse_script, preset_from_pose, script_poses)
from engines.posespec import DEFAULT_POSE_SPEC as SPEC


def test_preset_from_pose_takes_the_chosen_parameters():
    pose = {"mouth_form": 0.8, "eye_left_open": 0.2, "head_yaw": 50.0}
    p = preset_from_pose("grin", pose, ["mouth_form", "head_yaw"])
    assert p.values == {"mouth_form": 0.8, "head_yaw": 30.0}  # clamped into the range
    full = preset_from_pose("all", pose)
    assert set(full.values) == set(SPEC.names) and full.values["eye_left_open"] == 0.2
    with pytest.raises(PresetError, match="unknown pose parameter.*mouth_width.*known: brow_left"):
        preset_from_pose("x", pose, ["mouth_width"])


@pytest.mark.parametrize("bad, message", [
    (Preset("", {"mouth_form": 1.0}), "needs a name"),
    (Preset("x", {}), "sets no parameters"),
    (Preset("x", {"mouth_form": 2.0}), r"mouth_form = 2.0 is outside -1..1"),
    (Preset("x", {"mouth_form": float("nan")}), "outside"),
    (Preset("x", {"mouth_form": 1.0}, fade_in=-1), "fade-in"),
    (Preset("x", {"mouth_form": 1.0}, mode="sticky"), "mode 'sticky' is not one of toggle, hold"),
])
def test_bad_presets_are_explained(bad, message):
    with pytest.raises(PresetError, match=message):
        bad.validate()


def test_store_round_trip_atomic_and_careful(tmp_path):
    store = PresetStore(tmp_path / "sub" / "presets.json")
    assert store.load() == {}
    smile = Preset("smile", {"mouth_form": 1.0}, hotkey="Ctrl+1")
    store.save(smile)
    store.save(Preset("ohh", {"mouth_open": 0.9}, fade_in=0.05, fade_out=0.4, hold=0.2))
    again = PresetStore(store.path)
    assert again.names() == ["ohh", "smile"]
    assert again.get("smile") == smile and again.get("ohh").fade_out == 0.4
    assert again.get("ohh").hold == 0.2
    store.save(Preset("ohh", {"mouth_open": 0.9}, mode="hold"))
    assert PresetStore(store.path).get("ohh").mode == "hold"
    assert PresetStore(store.path).get("smile").mode == "toggle"  # the default, not written
    assert "mode" not in json.loads(store.path.read_text())["presets"][1]
    with pytest.raises(PresetError, match="exists already"):
        again.save(Preset("smile", {"mouth_form": 0.5}), overwrite=False)
    again.delete("ohh")
    assert store.names() == ["smile"]
    assert [p.name for p in store.path.parent.iterdir()] == ["presets.json"]  # no temp files
    assert json.loads(store.path.read_text())["schema"] == 1
    with pytest.raises(PresetError, match="no preset named 'nope'; saved: smile"):
        store.get("nope")

    # A damaged file is reported, and saving does not silently replace the user's presets.
    store.path.write_text('{"schema": 1, "presets": [{"name": "a", "values": {"bogus": 1}}]}')
    damaged = store.path.read_bytes()
    with pytest.raises(PresetError, match="cannot be read.*unknown pose parameter 'bogus'"):
        store.load()
    with pytest.raises(PresetError, match="left as it is"):
        store.save(smile)
    assert store.path.read_bytes() == damaged
    store.path.write_text("{not json")
    with pytest.raises(PresetError, match="cannot be read"):
        store.names()


def test_player_fades_in_holds_and_fades_out_over_tracking():
    player = PresetPlayer(SPEC, clock=lambda: 0.0)
    smile = Preset("smile", {"mouth_form": 1.0}, fade_in=0.2, fade_out=0.4)
    tracked = {"mouth_form": -0.5, "head_yaw": 10.0}
    player.trigger(smile, t=1.0)
    ramp = [player.apply(tracked, t=1.0 + k * 0.05)["mouth_form"] for k in range(5)]
    assert ramp[0] == pytest.approx(-0.5) and ramp[-1] == pytest.approx(1.0)
    assert all(b > a for a, b in zip(ramp, ramp[1:]))  # smooth rise, no jump
    held = player.apply(tracked, t=5.0)
    assert held["mouth_form"] == 1.0 and held["head_yaw"] == 10.0  # others follow tracking
    player.release("smile", t=5.0)
    mid = player.apply(tracked, t=5.2)["mouth_form"]
    assert -0.5 < mid < 1.0
    assert player.apply(tracked, t=5.5)["mouth_form"] == pytest.approx(-0.5)
    assert player.active == []


def test_tap_retrigger_and_toggle():
    player = PresetPlayer(SPEC)
    blink = BUILTIN_PRESETS["blink"]
    player.trigger(blink, hold=blink.hold, t=0.0)
    eyes = [player.apply({}, t=k * 0.02)["eye_left_open"] for k in range(20)]
    assert min(eyes) == 0.0 and eyes[0] == 1.0 and eyes[-1] == 1.0  # closes and reopens
    # Retrigger while fading out: continues from the current weight, never jumps back.
    smile = Preset("smile", {"mouth_form": 1.0}, fade_in=0.2, fade_out=0.4)
    player.trigger(smile, t=10.0)
    player.release("smile", t=11.0)
    before = player.apply({}, t=11.2)["mouth_form"]
    player.trigger(smile, t=11.2)
    after = player.apply({}, t=11.2)["mouth_form"]
    assert after == pytest.approx(before) and 0 < before < 1
    assert player.toggle(smile, t=12.0) is False  # it was on: now fading out
    assert player.toggle(smile, t=12.1) is True


def test_script_blink_smile_nod():
    poses = script_poses(parse_script("blink, smile:0.5, nod"), fps=25)
    eyes = [p["eye_left_open"] for p in poses]
    form = [p["mouth_form"] for p in poses]
    pitch = [p["head_pitch"] for p in poses]
    i_blink, i_smile, i_nod = eyes.index(min(eyes)), form.index(max(form)), pitch.index(min(pitch))
    assert min(eyes) == 0.0 and max(form) == 1.0 and min(pitch) == -12.0
    assert i_blink < i_smile < i_nod  # in script order
    assert sum(f == 1.0 for f in form) >= 0.5 * 25 - 1  # the smile holds ~0.5 s
    assert poses[0] == SPEC.defaults() and poses[-1] == SPEC.defaults()
    custom = {"pout": Preset("pout", {"mouth_form": -1.0})}
    sad = script_poses([ScriptStep("pout", hold=0.2)], fps=10, presets=custom,
                       base={"head_yaw": 5.0})
    assert min(p["mouth_form"] for p in sad) == -1.0 and all(p["head_yaw"] == 5.0 for p in sad)
    with pytest.raises(PresetError, match="no preset named 'dance'; available: angry"):
        script_poses(["dance"], fps=10)
    with pytest.raises(PresetError, match="seconds"):
        parse_script("smile:long")
    with pytest.raises(PresetError, match="empty"):
        parse_script(" , ")


@pytest.mark.parametrize("text, words", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"schema": 1, "presets": [{"name": "a", "values": {"head_yaw": NaN}}]}', "cannot be read"),
    ('{"schema": 1, "presets": [{"name": "a", "values": {"mouth_open": "abc"}}]}',
     "cannot be read"),
])
def test_unreadable_presets_files_are_explained(tmp_path, text, words):
    store = PresetStore(tmp_path / "presets.json")
    store.path.write_text(text)
    with pytest.raises(PresetError, match=words):
        store.load()
    assert store.path.read_text() == text  # left for the user, as the message says


def test_a_huge_presets_file_is_not_read(tmp_path):
    store = PresetStore(tmp_path / "presets.json")
    store.path.write_bytes(b'{"schema": 1, "presets": [], "x": "' + b"a" * (60 << 20) + b'"}')
    with pytest.raises(PresetError, match="60 MB"):
        store.load()
