"""Pose tables: the decoders' maps baked per character and looked up per frame."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engines.neural.pose_tables import PoseTables, TableSpec, bake, fidelity
from engines.neural.runtime import NeuralEngine
from engines.posespec import DEFAULT_POSE_SPEC

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def character() -> np.ndarray:
    return np.asarray(Image.open(REPO / "assets" / "default_character.png").convert("RGBA"))


@pytest.fixture(scope="module")
def engines() -> tuple[NeuralEngine, NeuralEngine]:
    """The shipped engine with its tables, and the same weights running the decoders."""
    tables = NeuralEngine.load(threads=1)
    decoders = NeuralEngine.load(threads=1)
    decoders.pose_tables = None
    return tables, decoders


def _maps_fn(spec, coef: dict[str, float], pair: tuple[str, str], cross: float):
    """A stand-in stage decoder whose maps are linear in each parameter plus one product of a
    pair: what the tables' terms can hold exactly (bilinear between grid points)."""
    base = np.linspace(0.0, 1.0, 2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    idx = {n: spec.names.index(n) for n in coef}
    a, b = spec.names.index(pair[0]), spec.names.index(pair[1])

    def maps(scaled: np.ndarray) -> list[np.ndarray]:
        v = scaled[0]
        x = base + sum(c * v[idx[n]] for n, c in coef.items()) * base[::-1] + cross * v[a] * v[b]
        return [x[:1], x[1:]]

    return maps


def test_tables_hold_a_function_of_their_own_form_exactly_between_grid_points() -> None:
    spec = DEFAULT_POSE_SPEC
    coef = {"head_yaw": 0.01, "head_pitch": -0.02, "body_yaw": 0.3}
    fn = _maps_fn(spec, coef, ("head_yaw", "head_pitch"), 1e-3)
    tables = bake(spec, fn, 1.0, "rotate", (("head_yaw", "head_pitch"),))
    rng = np.random.default_rng(0)
    for _ in range(20):
        v = spec.to_vector({"head_yaw": rng.uniform(-30, 30), "head_pitch": rng.uniform(-30, 30),
                            "body_yaw": rng.uniform(-1, 1)})
        got, want = tables.maps(v), fn(v[None])
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, atol=1e-5)
    # Without the pair, the product is what the tables leave out.
    plain = bake(spec, fn, 1.0, "rotate", ())
    v = spec.to_vector({"head_yaw": 20.0, "head_pitch": 20.0})
    assert np.abs(plain.maps(v)[0] - fn(v[None])[0]).max() == pytest.approx(0.4, abs=1e-4)


def test_a_gain_above_one_widens_the_grid_to_every_value_render_can_send() -> None:
    spec = DEFAULT_POSE_SPEC
    fn = _maps_fn(spec, {"head_yaw": 0.01}, ("head_yaw", "head_pitch"), 0.0)
    gain = np.ones(len(spec.names), np.float32)
    gain[spec.names.index("head_yaw")] = 1.5
    tables = bake(spec, fn, gain, "rotate", ())
    yaw = next(g for i, g, *_ in tables.axes if i == spec.names.index("head_yaw"))
    assert yaw[0] == pytest.approx(-45.0) and yaw[-1] == pytest.approx(45.0) and 0.0 in yaw
    v = spec.to_vector({}) * gain
    v[spec.names.index("head_yaw")] = 41.0
    np.testing.assert_allclose(tables.maps(v)[0], fn(v[None])[0], atol=1e-5)


def test_the_engine_with_tables_gives_the_decoders_maps_at_grid_points(engines, character) -> None:
    tables, decoders = engines
    baked = tables.prepare(character, generated=True)
    exact = decoders.prepare(character, generated=True)
    assert isinstance(baked.rotate_tables, PoseTables) and isinstance(baked.morph_tables, PoseTables)
    assert exact.rotate_tables is None and exact.morph_tables is None
    # Grid points: turns 5 degrees apart and the pairs' halves; eyes in twelfths.
    for pose in ({"head_yaw": 15.0}, {"head_yaw": -15.0, "head_pitch": 15.0}, {"head_roll": 30.0, "body_yaw": -0.5},
                 {"eye_left_open": 0.5}, {"mouth_open": 1.0, "mouth_form": -0.5},
                 {"eye_right_open": 0.5, "iris_x": 0.5}):
        a, b = tables.render(baked, pose), decoders.render(exact, pose)
        assert np.abs(a.astype(int) - b.astype(int))[..., 3].max() <= 2, pose
        assert np.abs(a.astype(int) - b.astype(int))[b[..., 3] > 128].max() <= 2, pose
        np.testing.assert_allclose(tables.rotation_grid(baked, pose), decoders.rotation_grid(exact, pose), atol=1e-5)


def test_off_grid_poses_score_against_the_truth_as_the_decoders_do(engines) -> None:
    """What the tables leave out (interactions beyond the baked pairs, the curve between grid
    points) costs a fraction of a decibel at most against the true renders of an unseen
    generated character (changed-region PSNR, as omokage eval scores)."""
    from engines.datagen.procedural import ProceduralSource
    from engines.neural.evaluate import procedural_truth

    cid = ProceduralSource().characters("val")[0]
    res = fidelity(engines[0], {cid: (procedural_truth(cid), True)}, n=6)[cid]
    for kind in ("one", "half", "all"):
        assert res[kind]["psnr_min"] > 30.0, (kind, res[kind])
        assert res[kind]["truth_tables"] - res[kind]["truth_decoders"] > -0.75, (kind, res[kind])
    assert res["one"]["psnr_median"] > 50.0 and res["half"]["psnr_median"] > 36.0
    assert engines[0].pose_tables is not None  # fidelity() leaves the engine as it found it


def test_a_changed_mirror_setting_bakes_the_rotator_tables_again(character) -> None:
    engine = NeuralEngine.load(threads=1)
    decoders = NeuralEngine.load(threads=1, mirror_ensemble=False)
    decoders.pose_tables = None
    prepared = engine.prepare(character)
    assert prepared.rotate_tables.mirror_ensemble
    morph_tables = prepared.morph_tables
    engine.mirror_ensemble = False  # the user chose single pass, or a recommendation did
    pose = {"head_yaw": 15.0 / 0.75}  # art from elsewhere turns by the manifest's factor
    out = engine.render(prepared, pose)
    assert not prepared.rotate_tables.mirror_ensemble and prepared.morph_tables is morph_tables
    want = decoders.render(decoders.prepare(character), pose)
    assert np.abs(out.astype(int) - want.astype(int))[want[..., 3] > 128].max() <= 2


def test_tables_can_be_left_to_the_decoders_per_stage(character) -> None:
    engine = NeuralEngine.load(threads=1)
    engine.pose_tables = TableSpec(stages=("rotate",))
    prepared = engine.prepare(character)
    assert prepared.rotate_tables is not None and prepared.morph_tables is None
    out = engine.render(prepared, {"eye_left_open": 0.3, "head_yaw": 10.0})
    assert out.shape == (512, 512, 4) and engine.timings_ms["morpher_ms"] > 0


def test_the_same_picture_prepared_again_keeps_its_tables(character) -> None:
    engine = NeuralEngine.load(threads=1)
    first = engine.prepare(character)
    again = engine.prepare(character.copy())
    assert again.rotate_tables is first.rotate_tables and again.morph_tables is first.morph_tables
    # Other turn factors (a generated character is posed unscaled) bake the rotator anew;
    # the morpher reads no turn, so its tables hold for both.
    own = engine.prepare(character, generated=True)
    assert own.rotate_tables is not first.rotate_tables and own.morph_tables is first.morph_tables
    other = character.copy()
    other[200:220, 240:260, :3] = 0
    assert engine.prepare(other).rotate_tables is not own.rotate_tables
