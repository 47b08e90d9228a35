"""Stage reuse in the real onnxruntime engine on the shipped weights: a stage whose inputs
moved less than posespec.change_steps keeps its last result, every other stage runs, and the
engine loaded for eval stays exact."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engines.neural.runtime import NeuralEngine
from engines.posespec import COARSE_STEPS, POSE_EPSILON

REPO = Path(__file__).resolve().parents[3]
TURNED = {"head_yaw": 12.0, "head_roll": -6.0, "breathing": 0.5, "eye_left_open": 0.6, "iris_x": 0.2}


@pytest.fixture(scope="module")
def character() -> np.ndarray:
    return np.asarray(Image.open(REPO / "assets" / "default_character.png").convert("RGBA"))


def reusing_engine(ensemble: bool = True) -> NeuralEngine:
    engine = NeuralEngine.load(threads=1, mirror_ensemble=ensemble)
    engine.stage_reuse = True
    return engine


def exact(pose: dict, character: np.ndarray, ensemble: bool = True) -> np.ndarray:
    engine = NeuralEngine.load(threads=1, mirror_ensemble=ensemble)
    return engine.render(engine.prepare(character), pose)


def test_the_engine_is_exact_unless_asked_and_the_app_asks() -> None:
    from app.engine import load_engine

    assert NeuralEngine.load(threads=1).stage_reuse is False  # eval, benchmarks, calibration
    assert load_engine(threads=1).stage_reuse is True


def test_a_still_head_keeps_its_rotation_while_the_eyes_move(character) -> None:
    engine = reusing_engine()
    prepared = engine.prepare(character)
    engine.render(prepared, TURNED)
    # The eyes move a lot, the breath a little (under a 16th of its range): the morpher
    # runs, the rotator's maps stand, so the frame is exactly the exact render of the new
    # eyes with the old rotation.
    moved = {**TURNED, "iris_x": -0.6, "eye_left_open": 0.1, "breathing": 0.5 + 0.5 * COARSE_STEPS["breathing"]}
    out = engine.render(prepared, moved)
    assert engine.reuse_counts == {"morpher": 0, "rotator": 1}
    assert np.array_equal(out, exact({**moved, "breathing": TURNED["breathing"]}, character))
    # and it is close to the exact frame of the new pose: the breath differs by a quarter pixel
    diff = out.astype(np.float32) - exact(moved, character)
    assert 10 * np.log10(255.0**2 / np.mean(diff**2)) > 40.0


def test_a_change_beyond_the_step_runs_the_stage_again(character) -> None:
    engine = reusing_engine()
    prepared = engine.prepare(character)
    engine.render(prepared, TURNED)
    turned_more = {**TURNED, "head_yaw": TURNED["head_yaw"] + 60.0 * POSE_EPSILON * 1.5}
    out = engine.render(prepared, turned_more)
    assert engine.reuse_counts == {"morpher": 1, "rotator": 0}  # the eyes did not move
    assert np.array_equal(out, exact(turned_more, character))


def test_slow_drift_is_measured_from_the_last_run_not_the_last_frame(character) -> None:
    engine = reusing_engine()
    prepared = engine.prepare(character)
    step = COARSE_STEPS["breathing"]
    runs = 0
    for i in range(12):  # a breath rising by 0.3 of its step a frame
        before = engine.reuse_counts["rotator"]
        engine.render(prepared, {**TURNED, "breathing": 0.2 + i * 0.3 * step})
        runs += engine.reuse_counts["rotator"] == before
    # Frame to frame the breath never moves a step, but it drifts 3.3 steps in all: the
    # rotator runs on frames 0, 4 and 8, each 1.2 steps from the run before.
    assert runs == 3, runs


def test_changing_the_mirror_ensemble_does_not_serve_the_other_modes_maps(character) -> None:
    engine = reusing_engine()
    prepared = engine.prepare(character)
    engine.render(prepared, TURNED)
    engine.mirror_ensemble = False  # the quality governor drops the ensemble
    out = engine.render(prepared, {**TURNED, "iris_x": -0.5})
    assert engine.reuse_counts["rotator"] == 0
    assert np.array_equal(out, exact({**TURNED, "iris_x": -0.5}, character, ensemble=False))


def test_iris_noise_below_its_step_keeps_the_morphed_face(character) -> None:
    engine = reusing_engine()
    prepared = engine.prepare(character)
    engine.render(prepared, TURNED)
    # Half of iris_x's step (a sixteenth of a pixel) with the head still: nothing runs.
    nudged = {**TURNED, "iris_x": TURNED["iris_x"] + 0.5 * COARSE_STEPS["iris_x"] * 2.0}
    out = engine.render(prepared, nudged)
    assert engine.reuse_counts == {"morpher": 1, "rotator": 1}
    assert np.array_equal(out, exact(TURNED, character))
