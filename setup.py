"""Build hook: the wheel carries the shipped engine weights and the default character.

They live in the repository's weights/ and assets/ (training and export write there); a
wheel gets a copy under engines/_shipped/, where engines/resources.py finds them through
importlib.resources. An editable install keeps reading the repository's folders.
"""
import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def shipped_files() -> list[tuple[Path, str]]:
    """(source, destination under engines/_shipped/) for every file a wheel carries."""
    manifest = ROOT / "weights" / "manifest.json"
    names = [info["path"] for info in json.loads(manifest.read_text())["files"].values()]
    out = [(manifest, "weights/manifest.json")]
    out += [(ROOT / "weights" / n, f"weights/{n}") for n in names]
    int8 = ROOT / "weights" / "int8.json"  # optional int8 decoders (engines/neural/quantize.py)
    if int8.is_file():
        entries = json.loads(int8.read_text())["files"].values()
        out += [(int8, "weights/int8.json")]
        out += [(ROOT / "weights" / Path(e["path"]).name, f"weights/{Path(e['path']).name}")
                for e in entries]
    out += [(p, f"assets/{p.name}") for p in sorted((ROOT / "assets").glob("default_character.*"))]
    missing = [str(src) for src, _ in out if not src.is_file()]
    if missing:
        raise SystemExit(f"cannot build: shipped files missing: {', '.join(missing)}")
    return out


class BuildWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for src, rel in shipped_files():
            dest = Path(self.build_lib) / "engines" / "_shipped" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)


setup(cmdclass={"build_py": BuildWithData})
