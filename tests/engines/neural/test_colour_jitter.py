"""Random hue turns of stored rows: real procedural shards, every image of a row turned alike."""
from __future__ import annotations

import numpy as np

from engines.datagen.dataset import ShardSampler
from engines.neural.colour_jitter import hue_matrix, jitter_batch, turn_hue
from engines.neural.shape_warp import CROP_KEYS, FULL_KEYS


def test_a_hue_turn_keeps_greys_and_a_third_of_a_turn_cycles_the_channels() -> None:
    np.testing.assert_allclose(hue_matrix(0.0), np.eye(3), atol=1e-6)
    third = hue_matrix(2 * np.pi / 3)
    np.testing.assert_allclose(third @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-6)  # red -> green
    for angle in (0.7, 2.0, 4.5):
        np.testing.assert_allclose(hue_matrix(angle) @ [0.4, 0.4, 0.4], [0.4, 0.4, 0.4], atol=1e-6)
    img = np.zeros((2, 2, 4), np.uint8)
    img[0, 0] = (200, 30, 10, 255)
    img[1, 1] = (90, 90, 90, 128)
    out = turn_hue(img, third)
    assert tuple(out[0, 0]) == (10, 200, 30, 255) and tuple(out[1, 1]) == (90, 90, 90, 128)


def test_batches_turn_a_share_of_rows_one_angle_per_row(data) -> None:
    batch = ShardSampler({str(data): 1.0}, "train", seed=4).batch(6)
    rng = np.random.default_rng(0)
    assert jitter_batch(batch, rng, 0.0) is batch
    out = jitter_batch(batch, rng, 1.0, keys=FULL_KEYS)
    for k in FULL_KEYS:
        assert out[k].shape == batch[k].shape and out[k].dtype == np.uint8
        np.testing.assert_array_equal(out[k][..., 3], batch[k][..., 3])  # alpha untouched
        assert all(not np.array_equal(out[k][i], batch[k][i]) for i in range(6)), k
    for k in CROP_KEYS:
        assert np.array_equal(out[k], batch[k])
    for i in range(6):
        # Where rest and expression agreed they still agree: both turned by the same angle.
        same = (batch["rest"][i] == batch["expr"][i]).all(-1) & (batch["rest"][i][..., 3] > 0)
        assert same.sum() > 100
        np.testing.assert_array_equal(out["rest"][i][same], out["expr"][i][same])
