"""`motion_checks grid` on stored shards: a plain rotator checkpoint and the same rotator
with a fresh head view score the same, and the per-turn split covers every row."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from app.character import load_character  # noqa: E402
from engines.datagen.dataset import Triple, pack_triples, shard_path, write_shard  # noqa: E402
from engines.neural.head_view import HeadViewRotator  # noqa: E402
from engines.neural.model import load_networks  # noqa: E402
from engines.neural.motion_checks import grid_check  # noqa: E402
from engines.neural.runtime import WEIGHTS_DIR  # noqa: E402
from engines.posespec import DEFAULT_POSE_SPEC  # noqa: E402
from engines.resources import default_character  # noqa: E402


def _shards(root, rows: int = 8):
    """Rows of the default character whose posed image is the rest image moved 3 px right,
    with that motion as the true flow (known everywhere)."""
    rest = load_character(default_character()).rgba
    posed = np.roll(rest, 3, axis=1)
    rng = np.random.default_rng(0)
    flow = np.zeros((128, 128, 2), np.float32)
    flow[..., 0] = -3.0 * 2.0 / 512.0  # where each posed pixel was, in grid units
    for split in ("val", "train"):
        triples = []
        for _ in range(rows):
            pose = {p.name: float(rng.uniform(p.lo, p.hi)) for p in DEFAULT_POSE_SPEC.params}
            triples.append(Triple(rest, rest, posed, pose, "default", flow, np.ones((128, 128), np.uint8)))
        write_shard(shard_path(root, split, 0), pack_triples(triples))


def test_grid_check_scores_a_head_view_made_from_a_rotator_as_that_rotator(tmp_path):
    _shards(tmp_path / "data")
    morpher, rotator, st = load_networks(WEIGHTS_DIR / "training_checkpoint.pt")
    plain = tmp_path / "plain.pt"
    torch.save({"morpher": morpher.state_dict(), "rotator": rotator.state_dict()}, plain)
    head = tmp_path / "head.pt"
    torch.save({"morpher": morpher.state_dict(), "rotator": HeadViewRotator(rotator).state_dict()}, head)
    a = grid_check(str(plain), str(tmp_path / "data"), rows=8)
    b = grid_check(str(head), str(tmp_path / "data"), rows=8)
    for split in ("val", "train"):
        assert a[split]["grid_error"] == pytest.approx(b[split]["grid_error"], abs=1e-6)
        assert a[split]["gain_db"] == pytest.approx(b[split]["gain_db"], abs=1e-3)
        assert 0.0 < a[split]["grid_error"] < 5.0
        assert sum(v for k, v in a[split].items() if k.startswith("rows_")) == 8
