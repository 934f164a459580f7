"""A check of an HDF5 file's global heaps before the HDF5 library reads them.

Variable-length strings (the attributes Keras writes: `model_config`, layer names, ...) live in global heap
collections. The HDF5 library (1.14, under h5py) loops without end on a collection whose objects claim more
bytes than it holds, which one flipped bit in a file makes: such a file would hang any load. Every
collection is walked here first (format: HDF5 file format specification, "Global Heap")."""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any

_SIGNATURE = b"GCOL"
_HEADER = 16  # signature, version, 3 reserved bytes, collection size (8)
_OBJECT_HEADER = 16  # index (2), reference count (2), 4 reserved bytes, object size (8)


def check_file(path: Path) -> None:
    """`check` on a file, read through a memory map (a weights file may be large)."""
    with open(path, "rb") as file:
        if file.seek(0, 2) == 0:
            return  # an empty file: the HDF5 library refuses it itself
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            check(data)


def check(data: Any) -> None:
    """Raise ValueError when a global heap collection in `data` (bytes or a memory map) is damaged: objects
    past its end, or sizes that do not add up to it."""
    start = data.find(_SIGNATURE)
    while start != -1:
        _check_collection(data, start)
        start = data.find(_SIGNATURE, start + 1)


def _check_collection(data: bytes, start: int) -> None:
    if start + _HEADER > len(data) or data[start + 4] != 1:
        return  # not a collection (the signature's bytes occur by chance) or one the library refuses itself
    (size,) = struct.unpack_from("<Q", data, start + 8)
    end = start + size
    if size < _HEADER or end > len(data):
        raise ValueError(f"the HDF5 global heap at byte {start} declares {size} bytes, past the file's end.")
    position = start + _HEADER
    while position + _OBJECT_HEADER <= end:
        index, _, _, length = struct.unpack_from("<HHIQ", data, position)
        if index == 0:  # the free space (its header included) fills the rest of the collection exactly
            if position + length != end:
                raise ValueError(f"the HDF5 global heap at byte {start} does not add up: its objects end at "
                                 f"byte {position + length}, the heap at {end}; the file is damaged.")
            return
        padded = _OBJECT_HEADER + (length + 7) // 8 * 8
        if position + padded > end:
            raise ValueError(f"the HDF5 global heap at byte {start} holds object {index} of {length} bytes, "
                             f"past the heap's end: the file is damaged.")
        position += padded
