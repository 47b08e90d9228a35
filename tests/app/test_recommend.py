"""Recommend settings: the decision from given per-frame costs, then one real measurement of
this machine (the shipped engine and MediaPipe) through `omokage recommend --apply`, with
the settings file read back by the json module."""
from __future__ import annotations

import json
import math

import pytest

from app.recommend import FPS_CHOICES, HEADROOM, Costs, apply_to_store, decide, frame_ms
from app.settings import SettingsStore, UserSettings


def costs(render, single, track, small, cores=2) -> Costs:
    return Costs(render_ms=render, render_single_ms=single, track_ms=track,
                 track_small_ms=small, cores=cores, cpu_model="Test CPU")


def choice(rec) -> tuple:
    return rec.single_pass, rec.tracker_size, rec.camera_fps, rec.fits


def test_a_fast_machine_keeps_everything_at_30_fps():
    rec = decide(costs(12, 8, 9, 8))
    assert choice(rec) == (False, 0, 30, True)
    assert "mirror ensemble on, full-size tracking, camera at 30 fps" in rec.reason
    assert "Test CPU (2 cores)" in rec.reason and "12 ms" in rec.reason


def test_the_engine_over_budget_drops_the_mirror_ensemble_first():
    # The figures of a busy 2-core cloud machine: 30 fps leaves 25 ms of its 33.
    rec = decide(costs(38, 24, 17, 15))
    assert choice(rec) == (True, 0, 30, True)
    assert "would need 38 ms" in rec.reason and "a frame needs 24 ms" in rec.reason


def test_a_slow_tracker_gets_the_small_input_before_the_ensemble_goes():
    rec = decide(costs(20, 14, 28, 22))  # the tracker is the slow stage
    assert choice(rec) == (False, 320, 30, True)
    assert "Full-size tracking would need 28 ms" in rec.reason


def test_both_over_budget_give_the_lightest_settings():
    rec = decide(costs(40, 24, 28, 23))
    assert choice(rec) == (True, 320, 30, True)


def test_one_core_adds_tracking_and_drawing():
    fast = costs(12, 8, 9, 8, cores=1)
    assert frame_ms(fast, False, False) == 21 and frame_ms(fast, True, True) == 16
    assert choice(decide(fast)) == (False, 0, 30, True)  # 21 ms <= 25 ms
    rec = decide(costs(14, 9, 12, 10, cores=1))  # 26 ms with everything: over 25
    assert choice(rec) == (False, 320, 30, True)  # 24 ms
    assert "take turns" in rec.reason


def test_the_camera_rate_comes_down_only_when_the_lightest_settings_miss_30_fps():
    rec = decide(costs(60, 45, 30, 28))
    # 24 fps leaves 31 ms, 20 fps 37.5 ms: 45 ms fits neither; 15 fps leaves 50 ms.
    assert choice(rec) == (True, 0, 15, True)
    assert "30 fps would leave 25 ms" in rec.reason
    assert choice(decide(costs(32, 29, 20, 18))) == (True, 0, 24, True)  # 29 ms <= 31 ms


def test_a_machine_too_slow_for_15_fps_is_told_so():
    rec = decide(costs(120, 80, 40, 35))
    assert choice(rec) == (True, 320, 15, False)
    assert "lag" in rec.reason and "80 ms" in rec.reason


def test_every_choice_fits_its_budget():
    for c in (costs(12, 8, 9, 8), costs(38, 24, 17, 15), costs(20, 14, 28, 22),
              costs(60, 45, 30, 28), costs(14, 9, 12, 10, cores=1)):
        rec = decide(c)
        assert rec.fits and rec.camera_fps in FPS_CHOICES
        assert rec.frame_ms <= 1000 / rec.camera_fps * HEADROOM
        assert rec.frame_ms == frame_ms(c, rec.single_pass, bool(rec.tracker_size))


def test_apply_writes_the_settings_file_and_keeps_the_rest(tmp_path):
    store = SettingsStore(tmp_path)
    before = UserSettings(camera="2", camera_width=1280, camera_height=720, camera_fps=60)
    store.save_user(before)
    rec = decide(costs(40, 24, 28, 23))
    path, message = apply_to_store(rec, store)
    assert message is None and path == tmp_path / "settings.json"
    data = json.loads(path.read_text(encoding="utf-8"))  # read back by the json module
    assert (data["single_pass"], data["tracker_size"], data["camera_fps"]) == (True, 320, 30)
    assert (data["camera"], data["camera_width"], data["camera_height"]) == ("2", 1280, 720)
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temporary left


def test_a_bad_tracker_size_in_a_settings_file_is_reset(tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps(
        {"schema_version": 1, "tracker_size": 12, "camera_fps": 24}))
    settings, message = SettingsStore(tmp_path).load_user()
    assert settings.tracker_size == 0 and settings.camera_fps == 24
    assert "tracker_size" in message and "96..4096" in message


def test_omokage_recommend_measures_this_machine_and_applies(tmp_path, monkeypatch, capsys):
    """One real run: the shipped engine with and without the mirror ensemble and MediaPipe
    at both input sizes, a few frames each, then --apply into a fresh settings folder."""
    from app.cli import main

    monkeypatch.setenv("OMOKAGE_CONFIG", str(tmp_path / "config"))
    assert main(["recommend", "--frames", "5", "--json", "--apply"]) == 0
    out = capsys.readouterr()
    result = json.loads(out.out)
    c, rec = result["costs"], result["recommendation"]
    for key in ("render_ms", "render_single_ms", "track_ms", "track_small_ms"):
        assert math.isfinite(c[key]) and 0 < c[key] < 10_000, (key, c)
    assert c["cpu_model"] and c["cores"] >= 1 and c["threads"] >= 1
    # The ensemble renders the rotator twice: it cannot be much cheaper than one pass.
    assert c["render_ms"] > 0.8 * c["render_single_ms"]
    again = decide(Costs(**c))
    assert (again.single_pass, again.tracker_size, again.camera_fps) == (
        rec["single_pass"], rec["tracker_size"], rec["camera_fps"])
    assert "Recommended:" in rec["reason"] and c["cpu_model"] in rec["reason"]
    saved = json.loads((tmp_path / "config" / "settings.json").read_text(encoding="utf-8"))
    assert (saved["single_pass"], saved["tracker_size"], saved["camera_fps"]) == (
        rec["single_pass"], rec["tracker_size"], rec["camera_fps"])
    assert "saved to" in out.err


def test_recommend_frames_out_of_range_is_refused(capsys):
    from app.cli import main

    assert main(["recommend", "--frames", "2"]) == 2
    assert "--frames 2" in capsys.readouterr().err


@pytest.mark.parametrize("rec_costs", [costs(38, 24, 17, 15)])
def test_the_report_names_the_cpu_and_every_figure(rec_costs):
    from app.recommend import report

    text = report(rec_costs, decide(rec_costs))
    for figure in ("38.0 ms", "24.0 ms", "17.0 ms", "15.0 ms", "Test CPU", "Recommended:"):
        assert figure in text


def test_the_tracker_timed_by_recommend_follows_a_real_face():
    """The tracker's figures come from a face MediaPipe really finds (not the cheaper
    empty-picture path), at full size and at 320 px."""
    from app.recommend import SMALL_TRACKER
    from app.tracking.bench import photo_frames, time_tracker

    imgs = photo_frames(6)
    assert imgs[0].shape == (480, 640, 3) and not (imgs[0] == imgs[1]).all()
    for size in (None, SMALL_TRACKER):
        ms, states = time_tracker(imgs, input_size=size)
        assert len(ms) == 6 and all(t > 0 for t in ms)
        assert all(s.tracked for s in states), size
        assert abs(states[1].yaw) < 30  # a face looking at the camera
