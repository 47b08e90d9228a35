"""The train-versus-unseen gap measurement runs the committed networks on real shards."""
from __future__ import annotations

import json
import math

import pytest

from engines.neural import generalisation
from engines.neural.train import COMPACT_CHECKPOINT


def test_gap_report_scores_both_networks_on_both_splits(data, tmp_path) -> None:
    out = tmp_path / "gap.json"
    assert generalisation.main(["--checkpoint", str(COMPACT_CHECKPOINT), "--data", str(data),
                                "--rows", "8", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    name = data.name
    for split in ("train", "val"):
        row = report[f"{name}/{split}"]
        assert row["rows"] == 8
        assert math.isfinite(row["morpher_gain_db"]) and math.isfinite(row["rotator_gain_db"])
        # The shipped networks animate procedural characters far better than the rest image.
        assert row["morpher_gain_db"] > 1.0 and row["rotator_gain_db"] > 1.0


def test_missing_checkpoint_is_named(tmp_path) -> None:
    with pytest.raises(SystemExit, match="not found"):
        generalisation.main(["--checkpoint", str(tmp_path / "none.pt")])
