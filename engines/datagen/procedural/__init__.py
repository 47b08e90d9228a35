"""Procedural anime characters: unlimited original identities with exact pose ground truth.

Public API:
    Identity                 dataclass of every identity parameter (to_json / from_json)
    Look                     its drawing style (identity.look): shading, strands, highlights,
                             skin and eye detail, line weight and colour, texture
    sample_identity(rng)     a random identity, in a random look, from wide distributions
    identity_for(id)         the identity of "proc-000042" (deterministic from the id)
    draw_character(identity, pose) -> 512x512x4 uint8 straight-alpha RGBA
    ProceduralSource         engines.datagen.dataset.TripleSource, name "procedural"

A character is a layered 2.5D vector drawing (skia): back hair, neck, body and clothes, ears,
face, eyes, brows, nose, mouth, front hair, accessories. Every point carries a depth, so a
head turn moves layers by different amounts (parallax) and foreshortens the far side of the
face. Each character is drawn in its own style (its Look): flat, cel (one or two hard tones)
or soft shading from a light that comes from either side, strand lines, angel rings and
specular streaks in the hair, soft skin shading, plain to detailed eyes, lineless to thick
lines in black, coloured or fill-tinted ink, paper or grain texture (and, for training data
only, detail from the Live2D training rigs' atlases). Shading and texture are painted on the
parts and move with them; the three images of a triple share one look.
Module map: identity (parameters and sampling), look (drawing style), layout (where face parts
sit), geometry (curves, the pose transform), paint (skia helpers), shading (form shadows,
gradients, strands), texture (paper, grain, atlas detail), eyes / face / hair / body /
accessories (the parts), render (draw order), source (training triples), sheet (contact sheets).

Commands:
    python -m engines.datagen.procedural build --out DIR --split train --shards N [--shard-size 64] [--seed 0]
        [--atlas] [--restyle]
    python -m engines.datagen.procedural sheet --out sheet.png [--n 8] [--palette]
    python -m engines.datagen.procedural sheet --styles --n 24 --cell 200 --out docs/procedural_styles.png
    python -m engines.datagen.procedural sheet --styles --with-rigs --atlas --out /tmp/rigs_vs.png
    python -m engines.datagen.procedural default   # redraw assets/default_character.png from its JSON

Measured on the shared 2-core AMD EPYC (load 2-3), looks cost about half as much again as the
plain style: `bench` 16.7 images/s (plain style: 24.9); one 64-triple `build` shard 12-15 s of
CPU (plain: 9-11 s) and 8.6 MB (plain: 5.3 MB; texture and strands compress less well).
Shards of one split are written by one process; for two cores run two builds into different
directories with different seeds and mix them in the ShardSampler.
"""
from engines.datagen.procedural.identity import Identity, identity_for, sample_identity
from engines.datagen.procedural.look import Look
from engines.datagen.procedural.render import draw_character

__all__ = ["Identity", "Look", "sample_identity", "identity_for", "draw_character", "ProceduralSource"]


def __getattr__(name):
    # The source pulls in the dataset writer (cv2); import it only when asked for.
    if name == "ProceduralSource":
        from engines.datagen.procedural.source import ProceduralSource

        return ProceduralSource
    raise AttributeError(name)
