"""PNG chunk checksums, verified before decoding.

Pillow does not verify the CRC of image-data (IDAT) chunks, and a flipped byte inside
compressed data often still inflates: the character would load as garbage and the engine
would animate the garbage. Every PNG chunk carries a CRC-32, so damage is certain to show
here (the whole walk costs well under a millisecond for a character image).
"""
from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def damaged_chunk(data: bytes) -> str | None:
    """None if `data` is not a PNG or all its chunks check out; otherwise what is wrong,
    in words. A file cut short is left to the decoder, which reports it as truncated."""
    if not data.startswith(SIGNATURE):
        return None
    pos, end = len(SIGNATURE), len(data)
    view = memoryview(data)
    while pos + 12 <= end:
        (length,) = struct.unpack_from(">I", data, pos)
        kind = bytes(view[pos + 4:pos + 8])
        if pos + 12 + length > end:
            return None  # truncated: the decoder says so
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(view[pos + 4:pos + 8 + length]) != crc:
            name = kind.decode("latin-1") if kind.isalpha() else repr(kind)
            return f"its {name} chunk at byte {pos} fails its checksum"
        if kind == b"IEND":
            return None
        pos += 12 + length
    return None
