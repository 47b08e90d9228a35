"""int8 decoders: made by onnxruntime's static quantisation from the shipped float weights,
loaded by the runtime only while they match the floats they were made from."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from engines.neural.quantize import INT8_MANIFEST, QUANTISED, int8_name, quantize_weights
from engines.neural.runtime import WEIGHTS_DIR, NeuralEngine

REPO = Path(__file__).resolve().parents[3]
POSE = {"head_yaw": 14.0, "head_roll": -6.0, "mouth_open": 0.8, "eye_left_open": 0.4}


@pytest.fixture(scope="module")
def quantised(tmp_path_factory) -> Path:
    """A copy of the shipped float weights with freshly made int8 decoders (a small
    calibration set, so the test stays quick)."""
    wd = tmp_path_factory.mktemp("weights")
    for f in WEIGHTS_DIR.iterdir():
        if f.suffix in (".onnx", ".json") and "_int8" not in f.name and f.name != INT8_MANIFEST:
            shutil.copy(f, wd / f.name)
    quantize_weights(wd, characters=2, poses=6, log=lambda *_: None)
    return wd


@pytest.fixture(scope="module")
def character() -> np.ndarray:
    return np.asarray(Image.open(REPO / "assets" / "default_character.png").convert("RGBA"))


def test_decoders_are_quantised_with_integer_weights(quantised: Path) -> None:
    record = json.loads((quantised / INT8_MANIFEST).read_text())
    manifest = json.loads((quantised / "manifest.json").read_text())
    for net in QUANTISED:
        entry = record["files"][net]
        assert entry["path"] == int8_name(net)
        assert entry["source_sha256"] == manifest["files"][net]["sha256"]
        model = onnx.load(str(quantised / entry["path"]))
        ops = [n.op_type for n in model.graph.node]
        assert ops.count("DequantizeLinear") > 0 and "QuantizeLinear" in ops
        int8_weights = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8]
        assert len(int8_weights) >= 8  # all but the output convolution of ten
    assert not any(p.suffix == ".tmp" for p in quantised.iterdir())  # atomic writes left nothing behind


def test_int8_engine_renders_close_to_float(quantised: Path, character: np.ndarray) -> None:
    f = NeuralEngine.load(quantised, threads=1, int8=False)
    q = NeuralEngine.load(quantised, threads=1, int8=True)
    assert q.int8 and q.precision["morpher_decoder"] == q.precision["rotator_decoder"] == "int8"
    assert q.precision["morpher_encoder"] == "float" and not f.int8
    a = f.render(f.prepare(character), POSE).astype(np.float32)
    b = q.render(q.prepare(character), POSE).astype(np.float32)
    diff = np.abs(a - b)
    assert diff.max() > 0  # the int8 networks really ran
    # Within a few grey levels on average over the head, where the pose changes pixels.
    assert diff[64:320, 128:384].mean() < 3.0, diff[64:320, 128:384].mean()


def test_stale_or_changed_int8_files_fall_back_to_float(quantised: Path, tmp_path: Path) -> None:
    wd = tmp_path / "w"
    shutil.copytree(quantised, wd)
    record = json.loads((wd / INT8_MANIFEST).read_text())
    # The float rotator was retrained after quantising: its int8 copy is from other weights.
    record["files"]["rotator_decoder"]["source_sha256"] = "0" * 64
    (wd / INT8_MANIFEST).write_text(json.dumps(record))
    # The morpher's int8 file was damaged.
    p = wd / int8_name("morpher_decoder")
    p.write_bytes(p.read_bytes()[:-10] + b"0123456789")
    eng = NeuralEngine.load(wd, threads=1, int8=True)
    assert not eng.int8
    assert "other weights" in eng.precision["rotator_decoder"]
    assert "missing or changed" in eng.precision["morpher_decoder"]
    assert "python -m engines.neural.quantize" in eng.precision["morpher_decoder"]
    (wd / INT8_MANIFEST).unlink()
    eng = NeuralEngine.load(wd, threads=1, int8=True)
    assert not eng.int8 and "no int8.json" in eng.precision["rotator_decoder"]


def test_calibration_covers_the_turns_generated_characters_are_posed_with(character: np.ndarray) -> None:
    """Generated characters are posed without the turn factors meant for other art: the
    calibration poses reach as far as they do (a factor below 1 must not clip them)."""
    from engines.neural.quantize import calibration_feeds

    engine = NeuralEngine.load(threads=1, int8=False)
    engine.turn_scale = {"head_yaw": 0.5, "head_pitch": 0.5, "head_roll": 0.5}
    feeds = calibration_feeds(engine, [("default", character)], 64)
    rotate = np.concatenate([f["pose"] for f in feeds["rotator_decoder"]])
    assert np.abs(rotate[:, :3]).max(0).min() > 0.9  # yaw, pitch, roll inputs out to about +-1
    engine.turn_scale = {"head_yaw": 1.5}  # wider for other art: that reach is covered too
    feeds = calibration_feeds(engine, [("default", character)], 64)
    rotate = np.concatenate([f["pose"] for f in feeds["rotator_decoder"]])
    assert np.abs(rotate[:, 0]).max() > 1.3
