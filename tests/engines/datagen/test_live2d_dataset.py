"""Live2DSource triples and the shard writer, on a small allowed model (z16, fetched via npm)."""
from __future__ import annotations

import numpy as np
import pytest

from engines.convention import HEAD_BOX
from engines.datagen.dataset import ShardSampler, shard_path, write_dataset
from engines.datagen.live2d import Live2DSource
from engines.datagen.live2d.augment import Augment
from engines.posespec import DEFAULT_POSE_SPEC


@pytest.fixture(scope="module")
def source() -> Live2DSource:
    # One character per split keeps the test small; the split rule is the same as the default's.
    return Live2DSource(train=("z16",), val=())


def _changed(a, b):
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1) > 24


def test_splits_never_overlap():
    src = Live2DSource()
    train, val = set(src.characters("train")), set(src.characters("val"))
    assert val == {"koharu", "haruto"} and not train & val
    with pytest.raises(ValueError, match="both train and val"):
        Live2DSource(train=("z16",), val=("z16",))
    with pytest.raises(ValueError, match="unknown split"):
        src.characters("test")


def test_triple_changes_the_face_in_expr_and_the_head_in_posed(source):
    spec = DEFAULT_POSE_SPEC
    x0, y0, x1, y1 = HEAD_BOX
    m = 12  # margin for jitter and anti-aliasing
    n_expr_changed = n_posed_changed = 0
    for seed in range(6):
        t = source.make_triple("z16", np.random.default_rng(seed))
        assert t.character == "z16"
        assert set(t.pose) == set(spec.names)
        for img in (t.rest, t.expr, t.posed):
            assert img.shape == (512, 512, 4) and img.dtype == np.uint8
        # The expression image changes only the face: nothing outside the head box moves.
        d = _changed(t.rest, t.expr)
        outside = d.copy()
        outside[y0 - m:y1 + m, x0 - m:x1 + m] = False
        assert outside.sum() == 0, f"seed {seed}: expr changed {outside.sum()} px outside the head box"
        n_expr_changed += d.any()
        n_posed_changed += _changed(t.expr, t.posed).any()
    assert n_expr_changed >= 3 and n_posed_changed >= 3


def test_expr_holds_the_morph_values_and_posed_the_whole_pose():
    spec = DEFAULT_POSE_SPEC
    src = Live2DSource(train=("z16",), val=(), augment=Augment(enabled=False))
    ch = src.character("z16")
    for seed in range(4):
        t = src.make_triple("z16", np.random.default_rng(seed))
        morph = {n: t.pose[n] for n in spec.stage_names("morph")}
        assert np.array_equal(t.rest, ch.render({}))
        assert np.array_equal(t.expr, ch.render(morph))
        assert np.array_equal(t.posed, ch.render(t.pose))


def test_flip_mirrors_images_and_pose(source):
    spec = DEFAULT_POSE_SPEC
    plain = Live2DSource(train=("z16",), val=(), augment=Augment(color_prob=0.0, params_prob=0.0,
                                                                    scale_jitter=0.0, offset_jitter=0.0,
                                                                    flip_prob=0.0))
    flip = Live2DSource(train=("z16",), val=(), augment=Augment(color_prob=0.0, params_prob=0.0,
                                                                   scale_jitter=0.0, offset_jitter=0.0,
                                                                   flip_prob=1.0))
    a = plain.make_triple("z16", np.random.default_rng(3))
    b = flip.make_triple("z16", np.random.default_rng(3))
    assert np.array_equal(a.posed[:, ::-1], b.posed)
    assert b.pose == spec.mirrored(a.pose)


def test_augmentation_changes_colours_but_not_the_silhouette(source):
    spec_free = Augment(color_prob=1.0, params_prob=0.0, scale_jitter=0.0, offset_jitter=0.0, flip_prob=0.0)
    plain = Augment(color_prob=0.0, params_prob=0.0, scale_jitter=0.0, offset_jitter=0.0, flip_prob=0.0)
    a = Live2DSource(train=("z16",), val=(), augment=plain).make_triple("z16", np.random.default_rng(1))
    b = Live2DSource(train=("z16",), val=(), augment=spec_free).make_triple("z16", np.random.default_rng(1))
    assert np.array_equal(a.rest[..., 3], b.rest[..., 3])
    assert np.abs(a.rest[..., :3].astype(int) - b.rest[..., :3]).max() > 30


def test_turn_gains_change_the_posed_image_only(source):
    fixed = dict(color_prob=0.0, params_prob=0.0, scale_jitter=0.0, offset_jitter=0.0, flip_prob=0.0)
    triples = []
    for gain_prob in (0.0, 1.0):
        src = Live2DSource(train=("z16",), val=(), augment=Augment(gain_prob=gain_prob, **fixed))
        rng = np.random.default_rng(3)
        while True:  # the first triple whose pose turns the head
            t = src.make_triple("z16", rng)
            if abs(t.pose["head_yaw"]) + abs(t.pose["head_pitch"]) + abs(t.pose["head_roll"]) > 5:
                break
        triples.append(t)
    a, b = triples
    assert a.pose == b.pose
    assert np.array_equal(a.rest, b.rest) and np.array_equal(a.expr, b.expr)
    assert _changed(a.posed, b.posed).sum() > 20


def test_supersampled_triples_keep_pose_and_flow_and_smooth_the_pixels(source):
    fixed = dict(color_prob=0.0, params_prob=0.0, scale_jitter=0.0, offset_jitter=0.0, flip_prob=0.0)
    a, b = (Live2DSource(train=("z16",), val=(), augment=Augment(supersample_prob=p, **fixed))
            .make_triple("z16", np.random.default_rng(5)) for p in (0.0, 1.0))
    assert a.pose == b.pose
    assert np.array_equal(a.flow, b.flow) and np.array_equal(a.flow_mask, b.flow_mask)
    for x, y in ((a.rest, b.rest), (a.expr, b.expr), (a.posed, b.posed)):
        assert x.shape == y.shape == (512, 512, 4)
        diff = np.abs(x.astype(np.int16) - y.astype(np.int16)).max(axis=-1)
        # the same drawing in the same place (to a tenth of a pixel) ...
        assert np.allclose(_alpha_centroid(x), _alpha_centroid(y), atol=0.1)
        assert diff.mean() < 1.5
        # ... with its own edge and texture pixels
        assert (diff > 8).sum() > 100
    # the size it is drawn at varies as the size of the art people bring does
    rng = np.random.default_rng(2)
    assert {Augment(supersample_prob=1.0).supersample(rng) for _ in range(60)} == {2, 3, 4}
    # off (the default), it draws nothing from the random stream: older datasets rebuild alike
    rng = np.random.default_rng(1)
    assert Augment().supersample(rng) == 1 and rng.random() == np.random.default_rng(1).random()


def _alpha_centroid(rgba):
    a = rgba[..., 3].astype(np.float64)
    ys, xs = np.mgrid[: a.shape[0], : a.shape[1]]
    return (a * xs).sum() / a.sum(), (a * ys).sum() / a.sum()


def _read(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


class _Interrupted(Live2DSource):
    """The real source, stopped like a Ctrl-C after a number of triples."""

    def __init__(self, stop_after: int, **kw):
        super().__init__(**kw)
        self.left = stop_after

    def make_triple(self, character, rng):
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return super().make_triple(character, rng)


def test_writer_is_deterministic_and_resumes_after_interruption(source, tmp_path):
    full = write_dataset(source, tmp_path / "a", "train", n_shards=2, shard_size=2, seed=7, progress=False)
    again = write_dataset(Live2DSource(train=("z16",), val=()), tmp_path / "b", "train", 2, 2, seed=7, progress=False)
    for p, q in zip(full, again):
        da, db = _read(p), _read(q)
        assert da.keys() == db.keys()
        for k in da:
            assert np.array_equal(da[k], db[k]), k
    other = _read(write_dataset(source, tmp_path / "c", "train", 1, 2, seed=8, progress=False)[0])
    assert not np.array_equal(other["pose"], _read(full[0])["pose"])

    out = tmp_path / "r"
    with pytest.raises(KeyboardInterrupt):
        write_dataset(_Interrupted(3, train=("z16",), val=()), out, "train", 2, 2, seed=7, progress=False)
    assert shard_path(out, "train", 0).exists() and not shard_path(out, "train", 1).exists()
    first = shard_path(out, "train", 0).stat().st_mtime_ns
    resumed = write_dataset(_Interrupted(2, train=("z16",), val=()), out, "train", 2, 2, seed=7, progress=False)
    assert shard_path(out, "train", 0).stat().st_mtime_ns == first  # not redone
    for p, q in zip(full, resumed):
        assert np.array_equal(_read(p)["posed"], _read(q)["posed"])
    assert not list((out / "train").glob("*.tmp*"))
    batch = ShardSampler({str(out): 1.0}).batch(3)
    assert batch["rest"].shape == (3, 256, 256, 4) and batch["rest_crop"].shape == (3, 128, 128, 4)


def test_sheet_command_writes_an_image(tmp_path):
    import cv2

    from engines.datagen.live2d.__main__ import main

    out = tmp_path / "sheet.png"
    assert main(["sheet", "--out", str(out), "--characters", "z16"]) == 0
    img = cv2.imread(str(out))
    assert img is not None and img.shape[1] > 10 * 150 and img.shape[0] > 150


def test_build_command_rejects_bad_arguments(tmp_path, capsys):
    from engines.datagen.live2d.__main__ import main

    with pytest.raises(SystemExit):
        main(["build", "--out", str(tmp_path), "--shards", "0"])
    assert "--shards and --shard-size must be at least 1" in capsys.readouterr().err
    for flag in ("--turn-gains", "--supersample"):
        with pytest.raises(SystemExit):
            main(["build", "--out", str(tmp_path), "--shards", "1", flag, "1.5"])
        assert f"{flag} is a share of the triples" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["build", "--out", str(tmp_path), "--shards", "1", "--turn-gain-floor", "1.2"])
    assert "--turn-gain-floor takes 0 to 1" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written


def test_wider_turn_gain_spreads_reach_lower_gains():
    rng = np.random.default_rng(0)
    narrow = np.concatenate([Augment(gain_prob=1.0).turn_gains(rng, 50) for _ in range(40)])
    wide = np.concatenate([Augment(gain_prob=1.0, gain_sigma=0.45, gain_floor=0.3).turn_gains(rng, 50)
                           for _ in range(40)])
    assert narrow.min() >= 0.55 and wide.min() >= 0.3 and wide.max() <= 1.45
    assert (wide < 0.55).mean() > 0.05 and wide.std() > narrow.std()
