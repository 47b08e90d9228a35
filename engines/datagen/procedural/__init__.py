"""Procedural anime characters: unlimited original identities with exact pose ground truth.

Public API:
    Identity                 dataclass of every identity parameter (to_json / from_json)
    sample_identity(rng)     a random identity from wide distributions
    identity_for(id)         the identity of "proc-000042" (deterministic from the id)
    draw_character(identity, pose) -> 512x512x4 uint8 straight-alpha RGBA
    ProceduralSource         engines.datagen.dataset.TripleSource, name "procedural"

A character is a layered 2.5D vector drawing (skia): back hair, neck, body and clothes, ears,
face, eyes, brows, nose, mouth, front hair, accessories. Every point carries a depth, so a
head turn moves layers by different amounts (parallax) and foreshortens the far side of the
face. Module map: identity (parameters and sampling), layout (where face parts sit),
geometry (curves, the pose transform), paint (skia helpers), eyes / face / hair / body /
accessories (the parts), render (draw order), source (training triples), sheet (contact sheet).

Commands:
    python -m engines.datagen.procedural build --out DIR --split train --shards N [--shard-size 64] [--seed 0]
    python -m engines.datagen.procedural sheet --out sheet.png [--n 8] [--palette]
    python -m engines.datagen.procedural default   # redraw assets/default_character.png from its JSON

Measured on the shared 2-core machine (load ~6): draw_character ~40 images/s per process;
`build` ~7 triples/s (21 images/s) including the writer's packing and compression, ~5.2 MB
per 64-triple shard. Shards of one split are written by one process; for two cores run two
builds into different directories with different seeds and mix them in the ShardSampler.
"""
from engines.datagen.procedural.identity import Identity, identity_for, sample_identity
from engines.datagen.procedural.render import draw_character

__all__ = ["Identity", "sample_identity", "identity_for", "draw_character", "ProceduralSource"]


def __getattr__(name):
    # The source pulls in the dataset writer (cv2); import it only when asked for.
    if name == "ProceduralSource":
        from engines.datagen.procedural.source import ProceduralSource

        return ProceduralSource
    raise AttributeError(name)
