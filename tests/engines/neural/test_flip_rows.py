"""Left-right flips of stored rows: real procedural shards, images and pose flipped together."""
from __future__ import annotations

import numpy as np

from engines.datagen.dataset import ShardSampler
from engines.neural.flip_rows import flip_batch
from engines.neural.shape_warp import CROP_KEYS, FULL_KEYS
from engines.posespec import DEFAULT_POSE_SPEC as SPEC


def test_mirrored_pose_vectors_swap_sides_and_negate_the_signed_turns() -> None:
    pose = {"eye_left_open": 0.2, "eye_right_open": 0.9, "brow_left": -0.5, "iris_x": 0.4,
            "head_yaw": 12.0, "head_roll": -7.0, "head_pitch": 5.0, "body_yaw": 0.3, "mouth_open": 0.6}
    out = SPEC.from_vector(SPEC.mirrored_vectors(SPEC.to_vector(pose)[None])[0])
    assert out["eye_left_open"] == np.float32(0.9) and out["eye_right_open"] == np.float32(0.2)
    assert out["brow_right"] == -0.5 and out["brow_left"] == SPEC["brow_right"].default
    assert np.allclose([out["iris_x"], out["head_yaw"], out["head_roll"], out["body_yaw"]], [-0.4, -12.0, 7.0, -0.3])
    assert np.allclose([out["head_pitch"], out["mouth_open"]], [5.0, 0.6])
    # The vector form agrees with the dict form the mapper and the data generators use.
    rng = np.random.default_rng(0)
    poses = np.array([[rng.uniform(p.lo, p.hi) for p in SPEC.params] for _ in range(5)], np.float32)
    want = [SPEC.to_vector(SPEC.mirrored(SPEC.from_vector(v))) for v in poses]
    np.testing.assert_allclose(SPEC.mirrored_vectors(poses), want, atol=1e-6)


def test_batches_flip_a_share_of_rows_with_their_poses(data) -> None:
    batch = ShardSampler({str(data): 1.0}, "train", seed=5).batch(12)
    assert flip_batch(batch, np.random.default_rng(0), 0.0) is batch
    out = flip_batch(batch, np.random.default_rng(1), 0.5)
    keys = FULL_KEYS + CROP_KEYS
    mirrored = SPEC.mirrored_vectors(batch["pose"])
    kinds = []
    for i in range(12):
        # Each row is either left as it was or flipped whole: every image and the pose.
        same = all(np.array_equal(out[k][i], batch[k][i]) for k in keys) and np.array_equal(out["pose"][i], batch["pose"][i])
        flip = all(np.array_equal(out[k][i], batch[k][i][:, ::-1]) for k in keys) and np.array_equal(out["pose"][i], mirrored[i])
        assert same or flip, i
        kinds.append(flip and not same)
    assert 0 < sum(kinds) < 12
    assert batch["pose"] is not out["pose"]  # the input batch is left as it was
