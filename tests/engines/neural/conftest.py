"""Small real procedural shards (train and val) shared by the training-side tests."""
from __future__ import annotations

import pytest

from engines.datagen.dataset import write_dataset
from engines.datagen.procedural import ProceduralSource


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("proc")
    src = ProceduralSource()
    write_dataset(src, root, "train", n_shards=1, shard_size=12, progress=False)
    write_dataset(src, root, "val", n_shards=1, shard_size=16, progress=False)
    return root
