"""Procedural anime characters: unlimited original identities with exact pose ground truth.

Public API: Identity, sample_identity, identity_for, draw_character, ProceduralSource.
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
