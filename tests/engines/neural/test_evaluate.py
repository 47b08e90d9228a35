"""Evaluation against true renders of an unseen procedural character, with the real engine."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engines.neural import evaluate as ev
from engines.neural.runtime import NeuralEngine


def test_score_is_perfect_for_the_truth_and_worse_for_the_rest_image() -> None:
    from engines.datagen.procedural import draw_character, identity_for

    ident = identity_for("proc-900001")
    rest = draw_character(ident, {})
    truth = draw_character(ident, {"mouth_open": 1.0})
    perfect = ev.score(rest, truth, truth)
    baseline = ev.score(rest, rest, truth)
    assert perfect["psnr_changed"] > 90 and perfect["ssim_head"] == pytest.approx(1.0)
    assert baseline["psnr_changed"] < 30 and baseline["ssim_head"] < 1.0


def test_evaluate_writes_every_category_and_a_sheet(tmp_path) -> None:
    from engines.datagen.procedural import draw_character, identity_for

    ident = identity_for("proc-900002")
    engine = NeuralEngine.load(threads=1)
    result = ev.evaluate({"proc-900002": lambda pose: draw_character(ident, pose)}, engine, tmp_path / "sheet.png")
    assert set(result["categories"]) == set(ev.CATEGORIES)
    assert result["expressions"] == {}  # no character named as showing them: none scored
    for cat, entry in result["categories"].items():
        assert entry["n"] == len(ev.CATEGORIES[cat])
        assert set(entry["identity"]) == {"psnr_head", "ssim_head", "psnr_changed"}
        assert set(entry["engine"]) == {"psnr_head", "ssim_head", "psnr_changed", "motion_error",
                                        "amplitude", "leak_pct", "detail", "grid_error", "grid_amplitude",
                                        "grid_shape_error", "grid_scale"}
    # The engine turns the head the right way: better than standing still.
    assert result["categories"]["head_yaw"]["engine"]["motion_error"] < 1.0
    json.dumps(result)  # plain JSON
    from PIL import Image

    sheet = np.asarray(Image.open(tmp_path / "sheet.png"))
    assert sheet.shape[1] == 2 * 160 * len(ev.CATEGORIES)


def test_detail_is_one_for_the_truth_and_falls_for_a_blur_that_psnr_prefers() -> None:
    """A lid's line drawn 3 px off scores a lower PSNR than a smear where the line should be;
    detail tells the smear (almost no line drawn) from the misplaced line (as much line)."""
    import cv2

    from engines.neural.compose import over_grey

    rest = np.zeros((512, 512, 4), np.uint8)
    rest[..., :3], rest[..., 3] = 230, 255
    truth, off = rest.copy(), rest.copy()
    cv2.ellipse(truth, (256, 160), (30, 12), 0, 180, 360, (30, 20, 20, 255), 3)
    cv2.ellipse(off, (256, 166), (30, 12), 0, 0, 180, (30, 20, 20, 255), 3)  # a sag, not an arch
    smear = cv2.GaussianBlur(truth, (0, 0), 6)
    changed = ev.changed_region(over_grey(rest), over_grey(truth)) | ev.changed_region(over_grey(rest), over_grey(off))
    g = {k: over_grey(v) for k, v in {"truth": truth, "off": off, "smear": smear}.items()}
    assert ev.detail(g["truth"], g["truth"], changed) == pytest.approx(1.0)
    assert ev.psnr_changed(g["smear"], g["truth"], changed) > ev.psnr_changed(g["off"], g["truth"], changed)
    assert ev.detail(g["smear"], g["truth"], changed) < 0.5 < ev.detail(g["off"], g["truth"], changed)


def test_eval_command_says_what_is_missing(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        ev.main(["--json", str(tmp_path / "o.json")])
    assert e.value.code == 2
    assert "nothing to evaluate" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ev.main(["--live2d", str(tmp_path / "missing.model.json"), "--json", str(tmp_path / "o.json")])
    assert "does not exist" in capsys.readouterr().err


def test_eval_command_scores_live2d_characters_drawn_large_and_shrunk(tmp_path, capsys) -> None:
    from engines.datagen.live2d.models import fetch_model

    model = str(fetch_model("z16"))
    results = []
    for k in (1, 2):
        out = tmp_path / f"ss{k}.json"
        assert ev.main(["--live2d", model, "--supersample", str(k), "--json", str(out)]) == 0
        results.append(json.loads(out.read_text()))
    # z16's brows tilt but it has no eye smile: only what its truth can show is scored.
    expr = results[0]["expressions"]
    assert set(expr) == {"brow_angle"} and expr["brow_angle"]["n"] == len(ev.EXPRESSION_CATEGORIES["brow_angle"])
    assert expr["brow_angle"]["engine_reads"] == ("brow_left_angle" in NeuralEngine.load(threads=1).pose_spec.names)
    assert "expression brow_angle" in capsys.readouterr().out
    native, shrunk = (r["categories"]["head_yaw"] for r in results)
    # the same poses, other pixels: the baseline moves, and the engine still turns the head
    assert native["identity"]["psnr_changed"] != shrunk["identity"]["psnr_changed"]
    assert shrunk["engine"]["psnr_changed"] > shrunk["identity"]["psnr_changed"]
    with pytest.raises(SystemExit):
        ev.main(["--live2d", model, "--supersample", "0", "--json", str(tmp_path / "o.json")])
    assert "whole factor" in capsys.readouterr().err


def test_eval_command_scores_the_expressions_on_generated_characters(tmp_path) -> None:
    """The generator draws every expression, so the procedural validation characters are
    scored on them too, apart from the nine categories."""
    out = tmp_path / "proc.json"
    assert ev.main(["--procedural-val", "1", "--json", str(out)]) == 0
    expr = json.loads(out.read_text())["expressions"]
    assert set(expr) == set(ev.EXPRESSION_CATEGORIES)
    for cat, entry in expr.items():
        assert entry["n"] == len(ev.EXPRESSION_CATEGORIES[cat])
        # a smiling lid or a tilted brow is a visible change from the rest image
        assert entry["identity"]["psnr_changed"] < 40


def test_motion_error_is_zero_for_the_truth_one_for_standing_still_and_counts_half_a_turn() -> None:
    from engines.datagen.procedural import draw_character, identity_for

    ident = identity_for("proc-900003")
    rest = draw_character(ident, {})
    truth = draw_character(ident, {"head_yaw": 30.0})
    half = draw_character(ident, {"head_yaw": 15.0})
    exact = ev.motion(rest, truth, truth)
    still = ev.motion(rest, rest, truth)
    partial = ev.motion(rest, half, truth)
    assert exact["motion_error"] < 0.05 and exact["amplitude"] == pytest.approx(1.0, abs=0.05)
    assert still["motion_error"] == pytest.approx(1.0, abs=0.05) and still["amplitude"] < 0.05
    # Half the turn: about half the amplitude, and an error between the two.
    assert 0.3 < partial["amplitude"] < 0.75 and 0.25 < partial["motion_error"] < 0.8


def test_leak_counts_visible_changes_outside_the_changed_region_only() -> None:
    rest = np.zeros((512, 512, 4), np.uint8)
    rest[..., 3] = 255
    changed = np.zeros((512, 512), bool)
    changed[100:140, 200:260] = True
    out = rest.copy()
    out[100:140, 200:260, 0] = 200  # inside: not a leak
    assert ev.leak(rest, out, changed) == 0.0
    out[10:30, 150:170, 1] = 200  # 400 pixels outside, inside the head region
    x0, y0, x1, y1 = ev.EVAL_HEAD_REGION
    outside = (x1 - x0) * (y1 - y0) - changed[y0:y1, x0:x1].sum()
    assert ev.leak(rest, out, changed) == pytest.approx(100.0 * 400 / outside)


def test_grid_motion_scores_the_true_flow_zero_and_standing_still_one() -> None:
    rng = np.random.default_rng(0)
    flow = np.zeros((128, 128, 2), np.float32)
    flow[0:64, 32:96] = rng.normal(0, 0.05, (64, 64, 2))
    known = np.ones((128, 128), np.uint8)
    assert ev.grid_motion(flow, flow, known)["grid_error"] == pytest.approx(0.0, abs=1e-6)
    still = ev.grid_motion(np.zeros_like(flow), flow, known)
    assert still["grid_error"] == pytest.approx(1.0) and still["grid_amplitude"] == 0.0
    assert np.isnan(ev.grid_motion(flow, flow, np.zeros_like(known))["grid_error"])


def test_grid_shape_error_forgives_the_size_of_a_motion_not_its_direction() -> None:
    rng = np.random.default_rng(1)
    flow = np.zeros((128, 128, 2), np.float32)
    flow[0:64, 32:96] = rng.normal(0, 0.05, (64, 64, 2))
    known = np.ones((128, 128), np.uint8)
    half = ev.grid_motion(0.5 * flow, flow, known)  # the right motion, half as far
    assert half["grid_error"] == pytest.approx(0.5, abs=1e-5)
    assert half["grid_shape_error"] == pytest.approx(0.0, abs=1e-5) and half["grid_scale"] == pytest.approx(2.0)
    backwards = ev.grid_motion(-flow, flow, known)  # the wrong way is no better than standing still
    assert backwards["grid_scale"] == 0.0 and backwards["grid_shape_error"] == pytest.approx(1.0)
    noise = ev.grid_motion(np.roll(flow, 7, axis=1), flow, known)  # unrelated to the truth
    assert noise["grid_shape_error"] > 0.9 and abs(noise["grid_scale"]) < 0.2


def test_the_engine_grid_turns_a_live2d_head_the_right_way() -> None:
    """Real rig, real engine: the rotator's grid against the rig's true flow."""
    from engines.datagen.live2d import Live2DCharacter
    from engines.datagen.live2d.flow import flow_to_rest
    from engines.datagen.live2d.models import fetch_model

    ch = Live2DCharacter(fetch_model("z16"))
    engine = NeuralEngine.load(threads=1)
    prepared = engine.prepare(ch.render({}))
    pose = {"head_roll": 25.0}
    s = ev.grid_motion(engine.rotation_grid(prepared, pose), *flow_to_rest(ch, pose))
    assert s["grid_error"] < 0.9 and s["grid_amplitude"] > 0.2
    # The opposite turn is far from this one's truth.
    wrong = ev.grid_motion(engine.rotation_grid(prepared, {"head_roll": -25.0}), *flow_to_rest(ch, pose))
    assert wrong["grid_error"] > s["grid_error"] + 0.3


def test_procedural_truth_turns_the_head_in_rig_degrees() -> None:
    from engines.datagen.procedural import draw_character, identity_for
    from engines.datagen.procedural.geometry import RIG_DEGREE

    truth = ev.procedural_truth("proc-900001")
    ident = identity_for("proc-900001")
    for name, f in RIG_DEGREE.items():
        assert np.array_equal(truth({name: 10.0 * f, "mouth_open": 1.0}),
                              draw_character(ident, {name: 10.0, "mouth_open": 1.0}))
    assert np.array_equal(truth({"body_yaw": 0.5}), draw_character(ident, {"body_yaw": 0.5}))
