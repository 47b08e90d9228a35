"""Smooth random warps of stored rows: real procedural shards, every image warped alike."""
from __future__ import annotations

import numpy as np

from engines.convention import CANVAS
from engines.datagen.dataset import ShardSampler
from engines.neural.shape_warp import CROP_KEYS, FULL_KEYS, random_field, warp_batch, warp_row


def _row(data) -> dict[str, np.ndarray]:
    batch = ShardSampler({str(data): 1.0}, "train", seed=0).batch(1)
    return {k: v[0] for k, v in batch.items() if k in FULL_KEYS + CROP_KEYS}


def test_no_displacement_leaves_the_images_unchanged(data) -> None:
    row = _row(data)
    out = warp_row(row, np.zeros((CANVAS, CANVAS, 2), np.float32))
    for k, img in row.items():
        seen = img[..., 3] > 0
        assert np.abs(out[k].astype(int) - img)[seen].max() <= 1, k


def test_one_field_moves_full_images_and_face_crops_alike(data) -> None:
    row = _row(data)
    field = np.zeros((CANVAS, CANVAS, 2), np.float32)
    field[..., 0] = 8.0  # every output pixel reads 8 canvas pixels to its right: content moves left
    out = warp_row(row, field)
    for k in FULL_KEYS + CROP_KEYS:
        # Full images are stored at a fraction of the canvas, the face crops at full resolution.
        shift = 8 * row[k].shape[0] // (CANVAS if k in FULL_KEYS else 128)
        moved, source = out[k][:, :-shift].astype(int), row[k][:, shift:]
        seen = source[..., 3] > 0
        assert seen.sum() > 100 and np.abs(moved - source)[seen].max() <= 1, k
        assert (out[k][:, -shift:, 3] == 0).all(), k  # what comes in from outside is transparent


def test_batches_warp_a_share_of_rows_and_only_the_asked_images(data) -> None:
    batch = ShardSampler({str(data): 1.0}, "train", seed=1).batch(6)
    rng = np.random.default_rng(0)
    assert warp_batch(batch, rng, 0.0) is batch
    out = warp_batch(batch, rng, 1.0, keys=CROP_KEYS)
    for k in CROP_KEYS:
        assert out[k].shape == batch[k].shape and out[k].dtype == np.uint8
        assert all(not np.array_equal(out[k][i], batch[k][i]) for i in range(6)), k
    for k in FULL_KEYS:
        assert np.array_equal(out[k], batch[k])
    assert np.array_equal(out["pose"], batch["pose"])
    field = random_field(np.random.default_rng(2), sigma=5.0, limit=12.0)
    assert np.abs(field).max() <= 12.0 + 1e-3 and np.abs(field).max() > 1.0


def test_a_stronger_warp_changes_the_images_more(data) -> None:
    batch = ShardSampler({str(data): 1.0}, "train", seed=2).batch(4)

    def change(sigma: float) -> float:
        out = warp_batch(batch, np.random.default_rng(5), 1.0, keys=("rest",), sigma=sigma)
        return float(np.abs(out["rest"].astype(int) - batch["rest"]).mean())

    weak, strong = change(2.0), change(8.0)
    assert 0.0 < weak < strong
