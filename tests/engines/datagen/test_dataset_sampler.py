"""The shard format and the mixing sampler, with real files written and read back."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.datagen.dataset import ShardSampler, Triple, pack_triples, shard_path, write_shard
from engines.posespec import DEFAULT_POSE_SPEC


def _triple(character: str, colour: tuple[int, int, int], yaw: float) -> Triple:
    img = np.zeros((512, 512, 4), np.uint8)
    cv2.circle(img, (256, 128), 60, (*colour, 255), -1)
    posed = np.roll(img, int(yaw), axis=1)
    return Triple(img, img.copy(), posed, {"head_yaw": yaw}, character)


def _write(root, split: str, character: str, colour, n_shards: int = 2) -> None:
    for k in range(n_shards):
        write_shard(shard_path(root, split, k), pack_triples([_triple(character, colour, 5.0 * i) for i in range(4)]))


def test_pack_stores_training_resolutions_and_pose_order() -> None:
    packed = pack_triples([_triple("a", (255, 0, 0), 10.0)])
    assert packed["rest_crop"].shape == (1, 128, 128, 4)
    assert packed["posed"].shape == (1, 256, 256, 4)
    assert packed["pose"][0, DEFAULT_POSE_SPEC.index("head_yaw")] == 10.0
    assert packed["pose"][0, DEFAULT_POSE_SPEC.index("eye_left_open")] == 1.0  # default filled in
    # Premultiplied downscaling: no dark fringe from transparent black around the disc.
    edge = packed["rest"][0][(packed["rest"][0][..., 3] > 0) & (packed["rest"][0][..., 3] < 255)]
    assert edge[:, 0].min() >= 250


def test_pack_rejects_wrong_sizes_with_the_character_named() -> None:
    t = _triple("bad-one", (0, 255, 0), 0.0)
    t.posed = t.posed[:256]
    with pytest.raises(ValueError, match="bad-one: posed must be 512x512x4"):
        pack_triples([t])


def test_sampler_mixes_sources_by_weight(tmp_path) -> None:
    _write(tmp_path / "a", "train", "red", (255, 0, 0))
    _write(tmp_path / "b", "train", "blue", (0, 0, 255))
    sampler = ShardSampler({str(tmp_path / "a"): 3.0, str(tmp_path / "b"): 1.0}, "train", seed=0)
    chars = sampler.batch(400)["character"]
    share = float(np.mean(chars == "red"))
    assert 0.68 < share < 0.82
    assert sampler.batch(2)["rest"].shape == (2, 256, 256, 4)


def test_sampler_picks_up_new_shards_and_explains_missing_data(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="generate data first"):
        ShardSampler({str(tmp_path / "none"): 1.0}, "train")
    _write(tmp_path / "a", "train", "red", (255, 0, 0), n_shards=1)
    sampler = ShardSampler({str(tmp_path / "a"): 1.0}, "train")
    _write(tmp_path / "a", "train", "red", (255, 0, 0), n_shards=3)
    sampler.refresh()
    assert len(sampler._files[str(tmp_path / "a")]) == 3


def test_shards_written_before_later_parameters_read_with_them_at_rest(tmp_path) -> None:
    """A shard written with the first thirteen parameters (its meta.json says so) reads back in
    the current spec's order, the expression parameters at their defaults, as its images show."""
    import json

    from engines.posespec import EXPRESSIONS, stage_prefix

    old = stage_prefix(DEFAULT_POSE_SPEC, 8, 5)
    root = tmp_path / "old"
    packed = pack_triples([_triple("red", (255, 0, 0), 7.0)], old)
    assert packed["pose"].shape[1] == 13
    write_shard(shard_path(root, "train", 0), packed)
    (root / "meta.json").write_text(json.dumps({"source": "test", "pose_spec": old.to_json()}))
    pose = ShardSampler({str(root): 1.0}, "train").batch(1)["pose"][0]
    assert pose.shape == (len(DEFAULT_POSE_SPEC),)
    assert pose[DEFAULT_POSE_SPEC.index("head_yaw")] == 7.0
    assert pose[DEFAULT_POSE_SPEC.index("eye_left_open")] == 1.0
    for name in EXPRESSIONS:
        assert pose[DEFAULT_POSE_SPEC.index(name)] == DEFAULT_POSE_SPEC[name].default

    # A build resumed after the spec grew holds both kinds of shard: each reads right.
    write_shard(shard_path(root, "train", 1), pack_triples([_triple("blue", (0, 0, 255), 9.0)]))
    both = ShardSampler({str(root): 1.0}, "train", seed=2).batch(40)
    assert set(both["pose"][:, DEFAULT_POSE_SPEC.index("head_yaw")]) == {7.0, 9.0}

    # Without a meta.json a short pose row cannot be placed: the message says what to do.
    bare = tmp_path / "bare"
    write_shard(shard_path(bare, "train", 0), packed)
    with pytest.raises(ValueError, match="rebuild the dataset"):
        ShardSampler({str(bare): 1.0}, "train").batch(1)
