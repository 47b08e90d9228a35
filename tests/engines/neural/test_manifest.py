"""Damaged or foreign weights fail when the engine loads, with one message that names the
file and says what to do; a manifest mutation per case, on links to the shipped ONNX files."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from engines.base import EngineError
from engines.neural.runtime import WEIGHTS_DIR, NeuralEngine


def _spec(m: dict, name: str) -> dict:
    return next(p for p in m["pose_spec"] if p["name"] == name)


def _swap_entries(m, a, b):
    m["files"][a], m["files"][b] = m["files"][b], m["files"][a]


def _drop_param(m, name):
    m["pose_spec"] = [p for p in m["pose_spec"] if p["name"] != name]
    m["turn_scale"] = {}


def _set(m, path, value):
    *head, last = path
    obj = m
    for k in head:
        obj = obj[k]
    obj[last] = value


# name -> (change to the manifest dict, file named in the message, words in the message)
CASES = {
    "files a list": (lambda m: m.update(files=list(m["files"].values())), "manifest.json",
                     "files must be an object naming each network, found a list"),
    "files missing": (lambda m: m.pop("files"), "manifest.json", "found None"),
    "entry without sha256": (lambda m: m["files"]["rotator_decoder"].pop("sha256"),
                             "manifest.json", "files.rotator_decoder has no valid sha256"),
    "sha256 not hex": (lambda m: _set(m, ["files", "morpher_encoder", "sha256"], "abc"),
                       "manifest.json", "files.morpher_encoder has no valid sha256"),
    "missing network": (lambda m: m["files"].pop("morpher_decoder"), "manifest.json",
                        "lacks the network(s) morpher_decoder"),
    "entry a string": (lambda m: _set(m, ["files", "rotator_encoder"], "rotator_encoder.onnx"),
                       "manifest.json", "files.rotator_encoder must be an object"),
    "path outside the folder": (lambda m: _set(m, ["files", "rotator_encoder", "path"],
                                               "../rotator_encoder.onnx"),
                                "manifest.json", "inside the weights folder"),
    "absolute path": (lambda m: _set(m, ["files", "rotator_encoder", "path"], "/etc/passwd"),
                      "manifest.json", "inside the weights folder"),
    "one file for two networks": (lambda m: _set(m, ["files", "rotator_encoder"],
                                                 dict(m["files"]["morpher_encoder"])),
                                  "manifest.json", "same ONNX file for two networks"),
    "decoders swapped": (lambda m: _swap_entries(m, "morpher_decoder", "rotator_decoder"),
                         "rotator_decoder.onnx", "not the morpher_decoder the runtime expects"),
    "encoder as decoder": (lambda m: _set(m, ["files", "rotator_decoder"],
                                          dict(m["files"]["rotator_encoder"])),
                           "manifest.json", "same ONNX file"),
    "spec one parameter short": (lambda m: _drop_param(m, "mouth_form"),
                                 "morpher_decoder.onnx", "pose [1, 7]"),
    "lo above hi": (lambda m: _spec(m, "head_yaw").update(lo=30.0, hi=-30.0), "manifest.json",
                    "pose_spec[8] (head_yaw): lo 30 must be below hi -30"),
    "lo equals hi": (lambda m: _spec(m, "mouth_open").update(lo=1.0, hi=1.0), "manifest.json",
                     "(mouth_open): lo 1 must be below hi 1"),
    "NaN default": (lambda m: _spec(m, "iris_x").update(default=math.nan), "manifest.json",
                    "(iris_x).default is nan, not a finite number"),
    "infinite hi": (lambda m: _spec(m, "breathing").update(hi=math.inf), "manifest.json",
                    "(breathing).hi is inf"),
    "default outside": (lambda m: _spec(m, "mouth_open").update(default=2.0), "manifest.json",
                        "default 2 is outside 0..1"),
    "text range": (lambda m: _spec(m, "brow_left").update(lo="-1"), "manifest.json",
                   "(brow_left).lo must be a number"),
    "spec empty": (lambda m: m.update(pose_spec=[]), "manifest.json", "non-empty list"),
    "spec an object": (lambda m: m.update(pose_spec={"a": 1}), "manifest.json", "non-empty list"),
    "duplicate name": (lambda m: _spec(m, "brow_right").update(name="brow_left"),
                       "manifest.json", "more than once"),
    "one-sided pair": (lambda m: _spec(m, "iris_x").update(pair="iris_y"), "manifest.json",
                       "pair 'iris_y' must name another parameter that names it back"),
    "half mirror sign": (lambda m: _spec(m, "head_roll").update(mirror_sign=0.5),
                         "manifest.json", "mirror_sign must be 1 or -1"),
    "unknown stage": (lambda m: _spec(m, "body_yaw").update(stage="warp"), "manifest.json",
                      "stage must be one of"),
    "centred not a flag": (lambda m: _spec(m, "mouth_open").update(centred="yes"), "manifest.json",
                           "(mouth_open): centred must be true or false"),
    "unknown key": (lambda m: _spec(m, "body_yaw").update(colour="red"), "manifest.json",
                    "unknown keys ['colour']"),
    "missing range": (lambda m: _spec(m, "body_yaw").pop("hi"), "manifest.json",
                      "missing ['hi']"),
    "bad name": (lambda m: _spec(m, "body_yaw").update(name="body yaw!"), "manifest.json",
                 "name must be an identifier"),
    "no rotate parameter": (lambda m: [p.update(stage="morph") for p in m["pose_spec"]],
                            "manifest.json", "no 'rotate' parameter"),
    "turn scale NaN": (lambda m: _set(m, ["turn_scale", "head_yaw"], math.nan), "manifest.json",
                       "turn_scale head_yaw is nan"),
    "turn scale negative": (lambda m: _set(m, ["turn_scale", "head_yaw"], -1.0),
                            "manifest.json", "turn_scale head_yaw=-1.0 is outside 0..2"),
    "turn scale unknown": (lambda m: _set(m, ["turn_scale", "nose"], 1.0), "manifest.json",
                           "turn_scale nose: not a pose parameter"),
    "turn scale a list": (lambda m: m.update(turn_scale=[1.0]), "manifest.json",
                          "turn_scale must be an object"),
    # Each field of a parameter, of the wrong type or missing.
    "parameter a string": (lambda m: m["pose_spec"].__setitem__(0, "brow_left"),
                           "manifest.json", "pose_spec[0] must be an object"),
    "name null": (lambda m: _spec(m, "brow_left").update(name=None), "manifest.json",
                  "pose_spec[0]: name must be an identifier, found None"),
    "group a number": (lambda m: _spec(m, "brow_left").update(group=3), "manifest.json",
                       "(brow_left): group must be text"),
    "group missing": (lambda m: _spec(m, "head_yaw").pop("group"), "manifest.json",
                      "(head_yaw): missing ['group']"),
    "unit a list": (lambda m: _spec(m, "head_yaw").update(unit=["deg"]), "manifest.json",
                    "(head_yaw): unit must be text"),
    "pair a number": (lambda m: _spec(m, "brow_left").update(pair=7), "manifest.json",
                      "(brow_left): pair 7 must name another parameter"),
    "pair itself": (lambda m: _spec(m, "mouth_open").update(pair="mouth_open"),
                    "manifest.json", "(mouth_open): pair 'mouth_open' must name another"),
    "mirror sign NaN": (lambda m: _spec(m, "head_yaw").update(mirror_sign=math.nan),
                        "manifest.json", "(head_yaw).mirror_sign is nan, not a finite number"),
    "mirror sign text": (lambda m: _spec(m, "head_yaw").update(mirror_sign="-1"),
                         "manifest.json", "(head_yaw).mirror_sign must be a number, found '-1'"),
    "lo a flag": (lambda m: _spec(m, "mouth_open").update(lo=True), "manifest.json",
                  "(mouth_open).lo must be a number, found True"),
    "default missing": (lambda m: _spec(m, "mouth_open").pop("default"), "manifest.json",
                        "(mouth_open): missing ['default']"),
    "stage null": (lambda m: _spec(m, "mouth_open").update(stage=None), "manifest.json",
                   "(mouth_open): stage must be one of ('morph', 'rotate'), found None"),
    "range overflowing float32": (lambda m: _spec(m, "head_yaw").update(lo=-1e308, hi=1e308),
                                  "manifest.json", "range -1e+308..1e+308 must lie within "
                                  "-1000..1000"),
    "spec null": (lambda m: m.update(pose_spec=None), "manifest.json", "non-empty list"),
    # Each field of a network entry.
    "files empty": (lambda m: m.update(files={}), "manifest.json", "lacks the network(s) "
                    "morpher_encoder, morpher_decoder, rotator_encoder, rotator_decoder"),
    "entry null": (lambda m: _set(m, ["files", "morpher_encoder"], None), "manifest.json",
                   "files.morpher_encoder must be an object with path and sha256"),
    "path empty": (lambda m: _set(m, ["files", "morpher_encoder", "path"], ""),
                   "manifest.json", "files.morpher_encoder.path must be a file name"),
    "path null": (lambda m: _set(m, ["files", "morpher_encoder", "path"], None),
                  "manifest.json", "found None"),
    "path the folder itself": (lambda m: _set(m, ["files", "morpher_encoder", "path"], "."),
                               "manifest.json", "files.morpher_encoder.path must be a file "
                               "name inside the weights folder, found '.'"),
    "path climbing out": (lambda m: _set(m, ["files", "morpher_encoder", "path"],
                                         "sub/../../morpher_encoder.onnx"),
                          "manifest.json", "inside the weights folder"),
    "path in a missing folder": (lambda m: _set(m, ["files", "morpher_encoder", "path"],
                                                "nested/morpher_encoder.onnx"),
                                 "nested/morpher_encoder.onnx", "is missing"),
    "sha256 a number": (lambda m: _set(m, ["files", "morpher_encoder", "sha256"], 123),
                        "manifest.json", "no valid sha256 (64 hex digits), found 123"),
    "sha256 of other bytes": (lambda m: _set(m, ["files", "morpher_encoder", "sha256"],
                                             "0" * 64),
                              "morpher_encoder.onnx", "checksum mismatch"),
    "turn scale text": (lambda m: _set(m, ["turn_scale", "head_yaw"], "1"), "manifest.json",
                        "turn_scale head_yaw must be a number, found '1'"),
    "turn scale zero": (lambda m: _set(m, ["turn_scale", "head_yaw"], 0), "manifest.json",
                        "turn_scale head_yaw=0 is outside 0..2"),
    "turn scale a flag": (lambda m: _set(m, ["turn_scale", "head_yaw"], True),
                          "manifest.json", "found True"),
    "turn scale null": (lambda m: m.update(turn_scale=None), "manifest.json",
                        "turn_scale must be an object"),
}


def _weights(tmp_path: Path) -> Path:
    """A weights folder whose ONNX files link to the shipped ones (nothing is copied)."""
    wd = tmp_path / "weights"
    wd.mkdir()
    for f in WEIGHTS_DIR.glob("*.onnx"):
        (wd / f.name).symlink_to(f)
    (wd / "manifest.json").write_text((WEIGHTS_DIR / "manifest.json").read_text())
    return wd


def _refused(wd: Path, file: str, words: str) -> str:
    with pytest.raises(EngineError) as err:
        NeuralEngine.load(wd, threads=1)
    text = str(err.value)
    assert str(wd / file) in text, text
    assert words in text, text
    assert "is damaged" in text or "is missing" in text, text
    assert "--weights" in text  # what to do: a folder not the shipped one
    return text


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_manifest_is_refused_at_load_naming_the_file(tmp_path, case):
    change, file, words = CASES[case]
    wd = _weights(tmp_path)
    m = json.loads((wd / "manifest.json").read_text())
    change(m)
    (wd / "manifest.json").write_text(json.dumps(m))  # NaN and Infinity written as Python does
    _refused(wd, file, words)


@pytest.mark.parametrize("text, words", [
    ("{ not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"pose_spec": NaN}', "pose_spec must be a non-empty list"),
    ("", "not valid JSON"),
    ("null", "expected a JSON object, found NoneType"),
    (b'{"engine": "omokage-neural-v1", "note": "caf\xe9"}', "not valid JSON ('utf-8' codec"),
    ('{"engine": "x"}'.encode("utf-16"), "not valid JSON"),
    ('{"pose_spec": ' + "9" * 5000 + "}", "Exceeds the limit (4300 digits)"),
])
def test_unreadable_manifest_is_refused(tmp_path, text, words):
    wd = _weights(tmp_path)
    path = wd / "manifest.json"
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    _refused(wd, "manifest.json", words)


def test_a_huge_manifest_is_not_read(tmp_path):
    wd = _weights(tmp_path)
    (wd / "manifest.json").write_bytes(b" " * (5 << 20) + b"{}")
    _refused(wd, "manifest.json", "far too large for a manifest")


def test_swapped_onnx_files_fail_their_checksum(tmp_path):
    wd = _weights(tmp_path)
    a, b = wd / "morpher_decoder.onnx", wd / "rotator_decoder.onnx"
    for link, target in ((a, WEIGHTS_DIR / b.name), (b, WEIGHTS_DIR / a.name)):
        link.unlink()
        link.symlink_to(target)
    _refused(wd, "morpher_decoder.onnx", "checksum mismatch")


def test_a_file_that_is_not_onnx_is_named(tmp_path):
    from engines.neural.runtime import sha256_file

    wd = _weights(tmp_path)
    bad = wd / "rotator_encoder.onnx"
    bad.unlink()
    bad.write_bytes(b"not an onnx model" * 100)
    m = json.loads((wd / "manifest.json").read_text())
    m["files"]["rotator_encoder"]["sha256"] = sha256_file(bad)
    (wd / "manifest.json").write_text(json.dumps(m))
    _refused(wd, "rotator_encoder.onnx", "onnxruntime cannot load it")


@pytest.mark.parametrize("damage, words", [
    ("half", "onnxruntime cannot load it"),
    ("empty", "onnxruntime cannot load it"),
    ("folder", "it is a folder, not an ONNX file"),
])
def test_a_damaged_onnx_file_with_its_own_checksum_is_named(tmp_path, damage, words):
    """Damage the checksum cannot catch (the manifest rewritten to match the bad file) or a
    folder where the file should be: the file is named, not a crash mid-render."""
    from engines.neural.runtime import sha256_file

    wd = _weights(tmp_path)
    bad = wd / "rotator_decoder.onnx"
    data = bad.read_bytes()
    bad.unlink()
    if damage == "folder":
        bad.mkdir()
    else:
        bad.write_bytes(data[: len(data) // 2] if damage == "half" else b"")
        m = json.loads((wd / "manifest.json").read_text())
        m["files"]["rotator_decoder"]["sha256"] = sha256_file(bad)
        (wd / "manifest.json").write_text(json.dumps(m))
    _refused(wd, "rotator_decoder.onnx", words)


def test_a_folder_named_manifest_json_is_named(tmp_path):
    wd = _weights(tmp_path)
    (wd / "manifest.json").unlink()
    (wd / "manifest.json").mkdir()
    _refused(wd, "manifest.json", "it is a folder, not the manifest file")


def test_a_network_the_runtime_does_not_know_is_ignored(tmp_path):
    """Forward compatibility: a newer export may list more networks; these four still load."""
    wd = _weights(tmp_path)
    m = json.loads((wd / "manifest.json").read_text())
    m["files"]["expression_decoder"] = dict(m["files"]["morpher_decoder"],
                                            path="expression_decoder.onnx")
    (wd / "manifest.json").write_text(json.dumps(m))
    engine = NeuralEngine.load(wd, threads=1)
    assert len(engine.pose_spec) == 13


def test_the_shipped_manifest_passes_and_a_missing_network_file_is_named(tmp_path):
    wd = _weights(tmp_path)
    engine = NeuralEngine.load(wd, threads=1)
    assert len(engine.pose_spec) == 13
    (wd / "rotator_decoder.onnx").unlink()
    _refused(wd, "rotator_decoder.onnx", "is missing")


def test_the_shipped_weights_say_to_restore_them_from_git(tmp_path, monkeypatch):
    """Damage in the repository's own weights/ points at git (or a reinstall)."""
    from engines.resources import restore_hint

    assert "git checkout -- weights" in restore_hint(WEIGHTS_DIR)
    assert "--weights" in restore_hint(tmp_path)


def test_an_upper_case_checksum_is_read_as_the_same_digest(tmp_path):
    """sha256 tools print hex in either case: an upper-case digest of the right file loads,
    and one of the wrong file is still refused."""
    wd = _weights(tmp_path)
    m = json.loads((wd / "manifest.json").read_text())
    for entry in m["files"].values():
        entry["sha256"] = entry["sha256"].upper()
    (wd / "manifest.json").write_text(json.dumps(m))
    engine = NeuralEngine.load(wd, threads=1)
    assert len(engine.pose_spec) == 13
    m["files"]["rotator_decoder"]["sha256"] = m["files"]["morpher_decoder"]["sha256"]
    (wd / "manifest.json").write_text(json.dumps(m))
    _refused(wd, "rotator_decoder.onnx", "checksum mismatch")
