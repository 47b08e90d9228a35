"""Whether a character image was drawn by the procedural generator.

The creator and `omokage avatar` save NAME.png with NAME.json beside it ({"identity": {...}});
the default character's JSON is the identity itself. The engine poses such characters in its
own unit (training relabels the generator's turns into it) rather than with the turn factors
chosen for art it has never seen.
"""
from __future__ import annotations

import json
from pathlib import Path


def identity_beside(image: str | Path):
    """The generator's Identity saved beside `image`, or None (no file, other JSON, a damaged
    file: someone else's art)."""
    js = Path(image).with_suffix(".json")
    if not js.is_file():
        return None
    from engines.datagen.procedural.identity import Identity

    try:
        doc = json.loads(js.read_text(encoding="utf-8"))
        return Identity.from_json(json.dumps(doc["identity"] if "identity" in doc else doc))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
