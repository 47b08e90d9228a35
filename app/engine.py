"""Loading the engine: the one place in app/ that constructs it.

The window, every command and the benchmarks ask for an engine here (through
app.build.build or load_engine), so a thread count, the mirror ensemble and the weights
folder mean the same everywhere. A leaf module (it imports nothing else from app/), so
app.pipeline and app.build can both use it without a cycle.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def default_engine_threads() -> int:
    """onnxruntime threads for the engine when the user chose "automatic". The tracker runs
    beside the engine, and these small networks gain little from more threads: on 2 cores
    one thread renders about twice as fast as two (measured while the cores were busy)."""
    cores = os.cpu_count() or 1
    return 1 if cores <= 4 else 2


def load_engine(weights: str | Path | None = None, threads: int | None = None,
                single_pass: bool = False, int8: bool | None = None) -> Any:
    """The shipped neural engine (or the one in `weights`), verified. threads 0/None:
    automatic; single_pass: no mirror ensemble; int8: the decoders' int8 copies where they
    are current (None: the engine's default). Raises EngineError naming a bad file."""
    from engines.neural.runtime import NeuralEngine

    kwargs: dict[str, Any] = {}
    if int8 is not None:
        kwargs["int8"] = int8
    engine = NeuralEngine.load(weights, threads=threads or default_engine_threads(),
                               mirror_ensemble=not single_pass, **kwargs)
    # Frames follow each other: a stage whose inputs barely moved keeps its last result
    # (the rotator while only the eyes move). `omokage eval` and the engine benchmark load
    # the engine themselves and render every pose exactly.
    engine.stage_reuse = True
    return engine
