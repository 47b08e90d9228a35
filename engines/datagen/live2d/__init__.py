"""Training data from Live2D (Cubism 2) characters rendered headlessly.

    Live2DCharacter(model_json).render(pose) -> 512x512x4 uint8 straight alpha, framed to the
                                                input convention (head in x 192-320, y 64-192)
    Live2DSource()                            -> TripleSource for engines.datagen.dataset
    models.HUMAN_TRAIN / HUMAN_VAL / HEAD_ONLY, models.fetch_model(name) -> .model.json path

Regenerate the data (resumable: rerun the same command to continue; deterministic per seed):

    python -m engines.datagen.live2d build --out DIR --split train --shards N [--seed 0]
    python -m engines.datagen.live2d build --out DIR --split val --shards M
    python -m engines.datagen.live2d sheet --out /tmp/live2d-sheet.png   # look at every control

Measured here (2 shared cores, Mesa llvmpipe, load average 7-9 from other jobs): one 512x512
render 25-40 ms (24 images/s wall, 40 per CPU-second); a triple with packing and compression
about 6 per CPU-second, 3.6/s wall under that load (~13k triples/hour per process; model loading
adds ~1 s per character per process). Disk: ~150 KB per triple, ~1.5 GB per 10k triples.

How it works: rig.py loads a model with live2d-py's pure-Python Cubism 2 runtime on an EGL
surfaceless context (gl.py) and sets every parameter explicitly (no Update(): no blinking,
breathing, physics or motions). mapping.py maps PoseSpec values onto each model's own ranges
(rest = angles 0, eyes at the model's open value, mouth closed). framing.py places the face
(found from what eyes-closed / mouth-open renders change) in the head box, once per model,
cached. character.py also records which controls visibly work on a model; only those are
sampled (sampling.py). augment.py makes apparent identities (part colours, free parameters,
scale/offset jitter, flips with the pose mirrored).

A GL context belongs to one process and thread: build Live2DSource inside a worker process,
not before a fork. Models are fetched from npm into the git-ignored cache; never commit them
or renders of them.
"""
from engines.datagen.live2d import gl as _gl  # noqa: F401  (sets up EGL before OpenGL loads)
from engines.datagen.live2d.character import Live2DCharacter
from engines.datagen.live2d.rig import ModelError
from engines.datagen.live2d.source import Live2DSource

__all__ = ["Live2DCharacter", "Live2DSource", "ModelError"]
