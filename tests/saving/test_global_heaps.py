"""HDF5 files whose global heaps (where their variable-length strings live) were damaged are refused before
the HDF5 library reads them: the library itself loops without end on some of them."""

from __future__ import annotations

import struct

import pytest

import lamina
from lamina import layers
from lamina.saving import global_heaps


@pytest.fixture(scope="module")
def legacy_file(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("heaps") / "model.h5"
    with lamina.backend.use("numpy"):
        lamina.Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)]).save(path)
    return path.read_bytes()


def _objects(data: bytes) -> list[int]:
    """The byte offsets of the objects of the first global heap collection."""
    start = data.find(b"GCOL")
    (size,) = struct.unpack_from("<Q", data, start + 8)
    offsets, position = [], start + 16
    while True:
        index, _, _, length = struct.unpack_from("<HHIQ", data, position)
        if index == 0:
            return offsets
        offsets.append(position)
        position += 16 + (length + 7) // 8 * 8


def test_an_intact_file_passes_and_loads(legacy_file, tmp_path):
    global_heaps.check(legacy_file)
    (tmp_path / "intact.h5").write_bytes(legacy_file)
    with lamina.backend.use("numpy"):
        assert lamina.models.load_model(tmp_path / "intact.h5").output_shape == (None, 2)


@pytest.mark.parametrize("grow", [2048, 10**9])
def test_a_heap_object_grown_by_a_flipped_bit_is_refused(legacy_file, tmp_path, grow):
    damaged = bytearray(legacy_file)
    longest = max(_objects(legacy_file), key=lambda offset: struct.unpack_from("<Q", legacy_file, offset + 8)[0])
    (length,) = struct.unpack_from("<Q", damaged, longest + 8)
    struct.pack_into("<Q", damaged, longest + 8, length + grow)
    (tmp_path / "damaged.h5").write_bytes(damaged)
    with lamina.backend.use("numpy"), pytest.raises(ValueError, match="damaged.h5.*not a readable HDF5 file.*global heap at byte"):
        lamina.models.load_model(tmp_path / "damaged.h5")
