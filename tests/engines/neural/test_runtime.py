"""The shipped weights through the real onnxruntime engine."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engines.base import EngineError
from engines.neural.compose import premultiply, unpremultiply
from engines.neural.runtime import WEIGHTS_DIR, NeuralEngine, unpremultiply_u8

REPO = Path(__file__).resolve().parents[3]
DEFAULT_CHARACTER = REPO / "assets" / "default_character.png"


@pytest.fixture(scope="module")
def engine() -> NeuralEngine:
    return NeuralEngine.load(threads=1)


@pytest.fixture(scope="module")
def character() -> np.ndarray:
    return np.asarray(Image.open(DEFAULT_CHARACTER).convert("RGBA"))


def test_manifest_lists_pose_spec_and_files(engine: NeuralEngine) -> None:
    m = json.loads((WEIGHTS_DIR / "manifest.json").read_text())
    assert [p["name"] for p in m["pose_spec"]] == engine.pose_spec.names
    assert set(m["files"]) == {"morpher_encoder", "morpher_decoder", "rotator_encoder", "rotator_decoder"}
    total = sum(f["bytes"] for f in m["files"].values())
    assert total < 30 * 2**20


def test_rest_pose_returns_the_character_unchanged(engine, character) -> None:
    prepared = engine.prepare(character)
    out = engine.render(prepared, {})
    assert out.shape == (512, 512, 4) and out.dtype == np.uint8
    assert np.array_equal(out, character)


def test_uint8_unpremultiply_matches_the_float_one(character) -> None:
    """The runtime's fast uint8 path gives back what the float maths gives: the same alpha, and
    colour within a few levels wherever alpha leaves enough precision."""
    pm = premultiply(character)
    fast = unpremultiply_u8((pm * 255.0 + 0.5).astype(np.uint8))
    exact = unpremultiply(pm)
    a = character[..., 3]
    assert np.array_equal(fast[..., 3], a)
    assert not fast[a == 0].any()
    # Where alpha is small, premultiplied uint8 has lost colour precision; compare the rest.
    solid = a >= 32
    assert np.abs(fast[solid].astype(int) - exact[solid]).max() <= 4
    assert np.abs(fast[a == 255].astype(int) - character[a == 255]).max() <= 1


@pytest.mark.parametrize("pose", [{"eye_left_open": 0.0, "eye_right_open": 0.0}, {"mouth_open": 1.0},
                                  {"head_yaw": 25.0}, {"head_roll": -20.0}])
def test_pose_changes_the_picture_and_keeps_the_background_clear(engine, character, pose) -> None:
    prepared = engine.prepare(character)
    out = engine.render(prepared, pose)
    diff = np.abs(out.astype(int) - character.astype(int)).max(-1)
    assert (diff > 24).sum() > 50, "the pose did not visibly change the image"
    # Far from the character the background stays fully transparent (no halos / smears).
    from scipy.ndimage import binary_dilation

    near = binary_dilation(character[..., 3] > 0, iterations=48)
    assert out[..., 3][~near].max() <= 8


def test_eyes_change_only_near_the_face(engine, character) -> None:
    prepared = engine.prepare(character)
    out = engine.render(prepared, {"eye_left_open": 0.0, "eye_right_open": 0.0})
    diff = np.abs(out.astype(int) - character.astype(int)).max(-1) > 8
    ys, xs = np.nonzero(diff)
    assert len(ys) > 0
    assert xs.min() >= 192 and xs.max() < 320 and ys.min() >= 64 and ys.max() < 192


def test_mirror_ensemble_turns_the_mirrored_character_as_the_mirror_image(engine, character) -> None:
    """Averaging the rotator with its mirrored pass makes the turns mirror-symmetric: the
    flipped character in the mirrored pose comes out as the flipped render. A wrong sign in
    the flipped-back grid or a swapped left/right parameter breaks this; one pass alone
    is not symmetric, which shows the check can fail."""
    pose = {"head_yaw": 15.0, "head_roll": -8.0, "head_pitch": 5.0, "body_yaw": 0.4}
    flipped = np.ascontiguousarray(character[:, ::-1])

    def mirror_error(e: NeuralEngine) -> np.ndarray:
        a = e.render(e.prepare(character), pose)
        b = e.render(e.prepare(flipped), e.pose_spec.mirrored(pose))[:, ::-1]
        return np.abs(a.astype(int) - b)[a[..., 3] > 64]

    assert engine.mirror_ensemble
    err = mirror_error(engine)
    assert err.max() <= 2 and err.mean() < 0.01  # rounding only
    assert mirror_error(NeuralEngine.load(threads=1, mirror_ensemble=False)).mean() > 0.5


def test_render_is_cached_for_an_unchanged_pose(engine, character) -> None:
    prepared = engine.prepare(character)
    a = engine.render(prepared, {"head_yaw": 10.0})
    b = engine.render(prepared, {"head_yaw": 10.0})
    assert a is b and engine.timings_ms.get("cached") == 1.0


def test_a_new_turn_scale_is_not_served_from_the_render_cache(character) -> None:
    eng = NeuralEngine.load(threads=1)
    prepared = eng.prepare(character)
    before = eng.render(prepared, {"head_yaw": 20.0}).copy()
    eng.turn_scale = {**eng.turn_scale, "head_yaw": 0.3}
    after = eng.render(prepared, {"head_yaw": 20.0})
    assert np.abs(after.astype(np.int16) - before).max() > 20


def test_wrong_image_shape_is_refused_with_a_clear_message(engine) -> None:
    with pytest.raises(EngineError, match="512x512 RGBA"):
        engine.prepare(np.zeros((256, 256, 4), np.uint8))


def test_damaged_weights_file_is_named(tmp_path) -> None:
    wd = tmp_path / "weights"
    shutil.copytree(WEIGHTS_DIR, wd, ignore=shutil.ignore_patterns("*.pt"))
    target = wd / "rotator_decoder.onnx"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(EngineError, match="rotator_decoder.onnx is damaged"):
        NeuralEngine.load(wd)
    target.unlink()
    with pytest.raises(EngineError, match="rotator_decoder.onnx is missing"):
        NeuralEngine.load(wd)


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(EngineError, match="not available"):
        NeuralEngine.load(providers=["NoSuchExecutionProvider"])


def _weights_with_turn_scale(tmp_path: Path, turn_scale: dict) -> Path:
    wd = tmp_path / "weights"
    shutil.copytree(WEIGHTS_DIR, wd, ignore=shutil.ignore_patterns("*.pt", "*.lock"))
    m = json.loads((wd / "manifest.json").read_text())
    m["turn_scale"] = turn_scale
    (wd / "manifest.json").write_text(json.dumps(m))
    return wd


def test_turn_scale_in_the_manifest_scales_the_turns_only(tmp_path, engine, character) -> None:
    scaled = NeuralEngine.load(_weights_with_turn_scale(tmp_path, {"head_yaw": 0.5}), threads=1)
    plain = NeuralEngine.load(_weights_with_turn_scale(tmp_path / "b", {}), threads=1)
    a, b = scaled.prepare(character), plain.prepare(character)
    np.testing.assert_array_equal(scaled.render(a, {"head_yaw": 24.0, "mouth_open": 1.0}),
                                  plain.render(b, {"head_yaw": 12.0, "mouth_open": 1.0}))
    assert not np.array_equal(scaled.render(a, {"head_yaw": 24.0}), plain.render(b, {"head_yaw": 24.0}))
    np.testing.assert_array_equal(scaled.render(a, {"head_roll": 20.0}), plain.render(b, {"head_roll": 20.0}))


def test_a_generated_character_is_posed_without_the_turn_scale(tmp_path, character) -> None:
    scaled = NeuralEngine.load(_weights_with_turn_scale(tmp_path, {"head_yaw": 0.5, "body_yaw": 0.5}), threads=1)
    plain = NeuralEngine.load(_weights_with_turn_scale(tmp_path / "b", {}), threads=1)
    pose = {"head_yaw": 24.0, "body_yaw": 0.8}
    own = scaled.render(scaled.prepare(character, generated=True), pose)
    np.testing.assert_array_equal(own, plain.render(plain.prepare(character), pose))
    art = scaled.render(scaled.prepare(character), pose)
    assert np.abs(art.astype(np.int16) - own).max() > 20
    np.testing.assert_array_equal(art, plain.render(plain.prepare(character), {"head_yaw": 12.0, "body_yaw": 0.4}))


def test_bad_turn_scale_names_the_manifest(tmp_path) -> None:
    wd = _weights_with_turn_scale(tmp_path, {"head_yaw": -1.0})
    with pytest.raises(EngineError, match="manifest.json is damaged.*turn_scale"):
        NeuralEngine.load(wd)


def test_bench_reports_every_stage_for_the_chosen_mode() -> None:
    from engines.neural.bench import bench_engine

    for ensemble in (True, False):
        r = bench_engine(threads=1, frames=3, mirror_ensemble=ensemble)
        assert {"render_ms", "morpher_ms", "rotator_ms", "prepare_s", "provider", "threads", "peak_rss_mb"} <= set(r)
        assert r["mirror_ensemble"] is ensemble and r["render_ms"] > 0 and r["threads"] == 1
