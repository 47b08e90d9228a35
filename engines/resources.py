"""Where the shipped engine weights and the default character are.

An installed wheel carries them as package data (engines/_shipped/weights and
engines/_shipped/assets, copied there by setup.py when the wheel is built), found through
importlib.resources so the app works from any folder. A source checkout has no such
folder and uses the repository's weights/ and assets/, which training and export write to.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIPPED = "_shipped"  # the package-data folder inside `engines` in a wheel


def _shipped(name: str) -> Path | None:
    try:
        root = resources.files("engines") / SHIPPED / name
    except (ModuleNotFoundError, TypeError):
        return None
    # onnxruntime and Pillow open real files: a zipped install would need extracting.
    return Path(str(root)) if isinstance(root, Path) and root.is_dir() else None


def weights_dir() -> Path:
    """The engine weights folder (manifest.json and the ONNX files)."""
    return _shipped("weights") or REPO / "weights"


def assets_dir() -> Path:
    return _shipped("assets") or REPO / "assets"


def default_character() -> Path:
    """The bundled default character (an original image made by this project)."""
    return assets_dir() / "default_character.png"


def is_shipped(path: Path) -> bool:
    """True when `path` lies inside the installed package data (not a user's folder)."""
    root = _shipped("weights")
    try:
        return root is not None and Path(path).resolve().is_relative_to(root.parent.resolve())
    except OSError:
        return False


def restore_hint(weights: Path) -> str:
    """What to do about damaged or missing weights, for where they were looked for."""
    weights = Path(weights).resolve()
    if is_shipped(weights):
        return "reinstall Omokage (pip install --force-reinstall omokage)"
    if weights == (REPO / "weights").resolve():
        return ("restore the weights/ folder from the Omokage repository "
                "(git checkout -- weights) or reinstall")
    return (f"use a folder written by `python -m engines.neural.export`, or leave out "
            f"--weights to use the shipped weights ({weights_dir()})")
