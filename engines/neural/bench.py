"""Engine benchmark: per-stage medians over many frames at 512x512 output."""
from __future__ import annotations

import resource
import time
from pathlib import Path

import numpy as np

from engines.neural.runtime import NeuralEngine


def peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS; this machine is Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def random_poses(spec, n: int, seed: int = 0) -> list[dict[str, float]]:
    """Poses that change every parameter every frame (the worst case: nothing is skipped)."""
    rng = np.random.default_rng(seed)
    return [{p.name: float(rng.uniform(p.lo, p.hi)) for p in spec.params} for _ in range(n)]


def bench_engine(threads: int = 1, frames: int = 100, character: Path | None = None,
                 weights_dir: Path | None = None, providers: list[str] | None = None,
                 mirror_ensemble: bool = True, int8: bool | None = None, pose_tables: bool = True) -> dict:
    """The engine's render time per frame (random poses, one character), as the app renders:
    with its pose tables (pose_tables.py), baked in prepare(), whose time is prepare_s;
    pose_tables=False runs the decoders every frame. prepare_s: loading the character the
    first time (the bake); prepare_again_s: again (its tables are kept)."""
    from PIL import Image

    engine = NeuralEngine.load(weights_dir, providers=providers, threads=threads, mirror_ensemble=mirror_ensemble,
                               int8=int8)
    if not pose_tables:
        engine.pose_tables = None
    if character is None:
        from engines.resources import default_character

        character = default_character()
    img = np.asarray(Image.open(character).convert("RGBA"))
    prep_times = []
    for _ in range(3):
        t = time.perf_counter()
        prepared = engine.prepare(img)
        prep_times.append(time.perf_counter() - t)
    poses = random_poses(engine.pose_spec, frames + 5)
    total, morph, rot = [], [], []
    for i, pose in enumerate(poses):
        t = time.perf_counter()
        engine.render(prepared, pose)
        dt = time.perf_counter() - t
        if i >= 5:  # warm-up frames excluded
            total.append(dt * 1e3)
            morph.append(engine.timings_ms["morpher_ms"])
            rot.append(engine.timings_ms["rotator_ms"])
    tables = {"rotate": prepared.rotate_tables, "morph": prepared.morph_tables}
    return {
        "render_ms": float(np.median(total)),
        "render_ms_p95": float(np.percentile(total, 95)),
        "morpher_ms": float(np.median(morph)),
        "rotator_ms": float(np.median(rot)),
        "prepare_s": float(prep_times[0]),
        "prepare_again_s": float(np.median(prep_times[1:])),
        "frames": frames,
        "provider": engine.providers[0],
        "threads": threads,
        "mirror_ensemble": mirror_ensemble,
        "int8": engine.int8,
        "pose_tables": [k for k, t in tables.items() if t is not None],
        "pose_tables_mb": sum(t.nbytes for t in tables.values() if t is not None) / 2**20,
        "peak_rss_mb": peak_rss_mb(),
    }


def bench_precisions(threads: int = 1, frames: int = 100, character: Path | None = None,
                     weights_dir: Path | None = None, mirror_ensemble: bool = True) -> dict:
    """Float and int8 decoders in one run, frame by frame in turn on the same poses, so a
    busy machine slows both alike and the ratio holds. Empty when no current int8 copy
    exists (python -m engines.neural.quantize makes it)."""
    from PIL import Image

    engines = {p: NeuralEngine.load(weights_dir, threads=threads, mirror_ensemble=mirror_ensemble, int8=p == "int8")
               for p in ("float", "int8")}
    for e in engines.values():
        e.pose_tables = None  # the decoders every frame: what int8 changes
    if not engines["int8"].int8:
        return {"int8_available": False, "int8_precision": engines["int8"].precision}
    if character is None:
        from engines.resources import default_character

        character = default_character()
    img = np.asarray(Image.open(character).convert("RGBA"))
    prepared = {p: e.prepare(img) for p, e in engines.items()}
    times = {p: {"render_ms": [], "morpher_ms": [], "rotator_ms": []} for p in engines}
    for i, pose in enumerate(random_poses(engines["float"].pose_spec, frames + 5, seed=1)):
        for p, e in engines.items():
            t = time.perf_counter()
            e.render(prepared[p], pose)
            if i >= 5:
                times[p]["render_ms"].append((time.perf_counter() - t) * 1e3)
                times[p]["morpher_ms"].append(e.timings_ms["morpher_ms"])
                times[p]["rotator_ms"].append(e.timings_ms["rotator_ms"])
    out: dict = {"int8_available": True, "int8_precision": engines["int8"].precision}
    for p in engines:
        for k, v in times[p].items():
            out[f"{p}_{k}"] = float(np.median(v))
    for k in ("render_ms", "morpher_ms", "rotator_ms"):
        out[f"int8_vs_float_{k.removesuffix('_ms')}"] = out[f"int8_{k}"] / out[f"float_{k}"]
    return out
