"""The motion template: fitted per pixel from stored true flow, applied inside the rotator."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engines.neural import motion_template as mt  # noqa: E402
from engines.neural.compose import stage_vectors  # noqa: E402
from engines.neural.model import GRID_SIZE, TEMPLATE_FEATURES, Rotator, template_features  # noqa: E402
from engines.posespec import DEFAULT_POSE_SPEC  # noqa: E402


def _true_template(rng) -> np.ndarray:
    # Smooth per-pixel slopes: each feature moves the canvas by a different affine field.
    c = np.linspace(-1, 1, GRID_SIZE, dtype=np.float32)
    gx, gy = np.meshgrid(c, c)
    t = np.zeros((TEMPLATE_FEATURES * 2, GRID_SIZE, GRID_SIZE), np.float32)
    for k in range(TEMPLATE_FEATURES * 2):
        a, b, d = rng.uniform(-0.04, 0.04, 3)
        t[k] = a + b * gx + d * gy
    return t


def _write_shards(root, template: np.ndarray, rng, shards: int = 2, rows: int = 64) -> None:
    split = root / "train"
    split.mkdir(parents=True)
    spec = DEFAULT_POSE_SPEC
    lo = np.array([p.lo for p in spec.params], np.float32)
    hi = np.array([p.hi for p in spec.params], np.float32)
    for k in range(shards):
        pose = rng.uniform(lo, hi, (rows, len(lo))).astype(np.float32)
        _, rot = stage_vectors(spec, pose)
        flow = mt.predict(template, rot).astype(np.float16)
        mask = np.ones((rows, GRID_SIZE, GRID_SIZE), np.uint8)
        rest = np.zeros((rows, 256, 256, 4), np.uint8)
        np.savez(split / f"shard_{k:05d}.npz", flow=flow, flow_mask=mask, pose=pose, rest=rest)


def test_fit_recovers_a_known_piecewise_linear_motion(tmp_path) -> None:
    rng = np.random.default_rng(3)
    true = _true_template(rng)
    _write_shards(tmp_path, true, rng)
    exact = mt.fit(str(tmp_path), ridge=0.0)
    assert exact.shape == true.shape
    err = np.abs(exact - true).mean() / np.abs(true).mean()
    assert err < 0.01, err  # float16 storage of the flow is the only loss
    # The ridge (pseudo-rows of no motion) only shrinks slopes toward still.
    fitted = mt.fit(str(tmp_path))
    assert np.abs(fitted).sum() < np.abs(exact).sum()
    # Scored as the rotator's grid is: exact on new poses, and the shrunk fit still moves
    # the right way (better than standing still, which scores 1).
    _, rot = stage_vectors(DEFAULT_POSE_SPEC, rng.uniform(-1, 1, (8, len(DEFAULT_POSE_SPEC.params))))
    truth = mt.predict(true, rot)
    sel = np.ones(truth.shape[:3], bool)
    assert mt.grid_error(mt.predict(exact, rot), truth, sel)[0] < 0.02
    assert mt.grid_error(mt.predict(fitted, rot), truth, sel)[0] < 0.6


def test_features_are_zero_at_rest_and_split_by_sign() -> None:
    spec = DEFAULT_POSE_SPEC
    _, rest = stage_vectors(spec, spec.to_vector({})[None])
    assert torch.count_nonzero(template_features(torch.from_numpy(rest))) == 0
    _, left = stage_vectors(spec, spec.to_vector({"head_yaw": -30.0})[None])
    _, right = stage_vectors(spec, spec.to_vector({"head_yaw": 30.0})[None])
    fl, fr = template_features(torch.from_numpy(left))[0], template_features(torch.from_numpy(right))[0]
    assert fr[0] == 1 and fr[1] == 0 and fl[0] == 0 and fl[1] == 1


def test_the_rotator_adds_its_template_to_the_grid() -> None:
    torch.manual_seed(0)
    rot = Rotator().eval()
    x, pose = torch.rand(2, 4, 128, 128), torch.rand(2, 5) * 2 - 1
    with torch.no_grad():
        plain, _, _ = rot(x, pose)
        t = torch.from_numpy(_true_template(np.random.default_rng(1)))
        rot.decoder.template.copy_(t)
        with_t, _, _ = rot(x, pose)
    expected = torch.from_numpy(mt.predict(t.numpy(), pose.numpy())).permute(0, 3, 1, 2)
    torch.testing.assert_close(with_t - plain, expected, atol=1e-5, rtol=1e-4)
    assert "decoder.template" in rot.state_dict()  # saved with the weights
