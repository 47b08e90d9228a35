"""The adaptive quality governor: logic on a fake clock, then the real engine in a live pipeline."""
from __future__ import annotations

import numpy as np

from app.governor import LEVELS, Governor, GovernorConfig


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def feed(gov: Governor, clock: Clock, ms: float, frames: int, dt: float = 1 / 30) -> list:
    moves = []
    for _ in range(frames):
        clock.t += dt
        lvl = gov.observe(ms)
        if lvl is not None:
            moves.append(lvl.name)
    return moves


def make(**kw):
    clock = Clock()
    seen = []
    gov = Governor(GovernorConfig(**kw), clock=clock, on_change=seen.append)
    return gov, clock, seen


def test_within_budget_stays_full():
    gov, clock, seen = make()
    assert feed(gov, clock, 25.0, 600) == []
    assert gov.level.name == "full" and seen == []


def test_steps_down_one_level_at_a_time_then_stops_at_the_bottom():
    gov, clock, seen = make()
    # The window is cleared on each move, so each level is judged on its own frames.
    assert feed(gov, clock, 50.0, 14) == []  # fewer than min_samples: no decision yet
    assert feed(gov, clock, 50.0, 1) == ["single pass"]
    assert feed(gov, clock, 50.0, 15) == ["small tracker"]
    assert feed(gov, clock, 50.0, 300) == []  # nothing below the last level
    assert [lv.name for lv in seen] == ["single pass", "small tracker"]
    assert seen[-1].mirror_ensemble is False and seen[-1].tracker_size == 320


def test_one_slow_frame_in_a_window_does_not_step_down():
    gov, clock, _ = make()
    times = [20.0] * 29 + [200.0]
    for ms in times * 10:
        clock.t += 1 / 30
        gov.observe(ms)
    assert gov.level.name == "full"


def test_comes_back_only_after_room_has_lasted():
    gov, clock, _ = make(up_after_s=5.0)
    feed(gov, clock, 50.0, 15)
    assert gov.level.name == "single pass"
    # Just under budget is not room: the level above costs more.
    assert feed(gov, clock, 30.0, 600) == []
    # Clear room, but for less than up_after_s: stay.
    assert feed(gov, clock, 10.0, 4 * 30) == []
    feed(gov, clock, 30.0, 30)  # the room ends (in the median): the wait starts again
    assert feed(gov, clock, 10.0, 4 * 30) == []
    assert feed(gov, clock, 10.0, 2 * 30) == ["full"]


def test_flapping_doubles_the_wait_before_the_next_step_up():
    gov, clock, _ = make(up_after_s=5.0, flap_s=10.0)
    feed(gov, clock, 50.0, 15)
    assert feed(gov, clock, 10.0, 7 * 30) == ["full"]
    # The full level does not hold: down again right after the step up.
    assert feed(gov, clock, 50.0, 16) == ["single pass"]  # 16 of 30 frames: the median
    assert feed(gov, clock, 10.0, 7 * 30) == []  # 5 s is no longer enough ...
    assert feed(gov, clock, 10.0, 5 * 30) == ["full"]  # ... 10 s is


def test_budget_follows_the_source_rate():
    gov, clock, _ = make()
    gov.set_budget(1000 / 15)  # a 15 fps camera: 50 ms frames are on time
    assert feed(gov, clock, 50.0, 300) == []
    gov.set_budget(0)  # ignored
    assert gov.config.budget_ms == 1000 / 15


class FakeEngine:
    mirror_ensemble = True
    pose_spec = None


class FakeTracker:
    input_size = None


def test_pipeline_applies_levels_within_the_users_choice():
    from app.pipeline import Pipeline
    from engines.posespec import DEFAULT_POSE_SPEC

    eng, trk = FakeEngine(), FakeTracker()
    eng.pose_spec = DEFAULT_POSE_SPEC
    pipe = Pipeline(eng, trk, mapper=None)
    gov = Governor(clock=Clock())
    pipe.set_governor(gov)
    for lvl, mirror, size in zip(LEVELS, (True, False, False), (None, None, 320)):
        pipe._apply_level(lvl)
        assert (eng.mirror_ensemble, trk.input_size) == (mirror, size)
    # A user who chose single pass and a 256 px tracker never gets more.
    eng.mirror_ensemble, trk.input_size = False, 256
    pipe.set_governor(gov)
    for lvl in LEVELS:
        pipe._apply_level(lvl)
        assert eng.mirror_ensemble is False and trk.input_size == 256
    assert pipe.stats().quality == gov.level.name


def test_real_engine_in_a_live_pipeline_drops_the_ensemble_when_frames_miss_the_budget():
    """The shipped engine and the default character, driven live with a made-up budget of
    0.01 ms that every real frame misses: the governor must switch the real engine to
    single pass, and the frames rendered after that must equal single-pass renders."""
    from app.character import load_character
    from app.mapping import Mapper
    from app.build import build_pipeline
    from app.sources import NoSource
    from engines.neural.runtime import NeuralEngine

    from tests.app.pipeline_fixtures import default_character, wait_for, weights_dir

    engine = NeuralEngine.load(weights_dir(), threads=1, mirror_ensemble=True)

    class MovingMapper(Mapper):  # every frame a new pose, so every frame renders
        n = 0

        def update(self, face, t):
            MovingMapper.n += 1
            return {"head_yaw": float(np.sin(MovingMapper.n * 0.3) * 10.0)}

    gov = Governor(GovernorConfig(budget_ms=0.01, min_samples=5, window=5))
    outs = []
    pipe = build_pipeline(engine=engine, character=load_character(default_character()),
                          source=NoSource(30.0), tracker=FakeTracker(),
                          mapper=MovingMapper(engine.pose_spec), governor=gov,
                          on_frame=outs.append)
    pipe.start()
    try:
        assert wait_for(lambda: gov.index == len(LEVELS) - 1, timeout=60.0), gov.changes
        n = len(outs)
        assert wait_for(lambda: len(outs) >= n + 2, timeout=30.0)
        assert engine.mirror_ensemble is False
        assert pipe.stats().quality == "small tracker"
    finally:
        pipe.close()
    assert engine.mirror_ensemble is True  # closed: the engine has the user's choice back
    ref = NeuralEngine.load(weights_dir(), threads=1, mirror_ensemble=False)
    last = outs[-1]
    expect = ref.render(ref.prepare(pipe.character.rgba, generated=pipe.character.generated), last.pose)
    assert np.array_equal(last.frame.rgba, expect)


def test_an_engine_with_a_distilled_mirror_pass_skips_the_single_pass_level():
    from types import SimpleNamespace

    from app.governor import LEVELS, levels_for

    assert levels_for(SimpleNamespace(mirror_distilled=False)) == LEVELS
    assert [lv.name for lv in levels_for(SimpleNamespace(mirror_distilled=True))] == ["full", "small tracker"]


def test_an_engine_with_pose_tables_keeps_the_mirror_ensemble_at_every_level() -> None:
    """Its rotator runs no pass per frame, so giving up the mirror pass saves nothing (and
    would only bake its tables again)."""
    from types import SimpleNamespace

    from app.governor import levels_for

    levels = levels_for(SimpleNamespace(mirror_distilled=False, pose_tables=object()))
    assert [lv.name for lv in levels] == ["full", "small tracker"]
    assert all(lv.mirror_ensemble for lv in levels) and levels[1].tracker_size == 320
