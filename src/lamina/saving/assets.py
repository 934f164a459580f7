"""Layer assets in a .keras file: files a layer writes with `save_assets(folder)` and reads back with
`load_assets(folder)` (a vocabulary, a lookup table), kept in the zip under `assets/<the layer's path>/`."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from lamina.saving import keras_file, weights

PREFIX = "assets/"


def _folder(group: str) -> str:
    return f"{PREFIX}{group}/" if group else PREFIX


def collect(model: Any) -> dict[str, bytes]:
    """The zip members of every asset the model's layers write, by member name."""
    layers = {group: layer for group, layer in weights.layer_groups(model).items() if hasattr(layer, "save_assets")}
    if not layers:
        return {}
    members: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for group, layer in layers.items():
            folder = Path(scratch, _folder(group))
            folder.mkdir(parents=True, exist_ok=True)
            layer.save_assets(str(folder))
            for file in sorted(p for p in folder.rglob("*") if p.is_file()):
                members[f"{_folder(group)}{file.relative_to(folder).as_posix()}"] = file.read_bytes()
    return members


def read(archive: zipfile.ZipFile, limit: int) -> dict[str, bytes]:
    """The asset members of an open .keras zip, `limit` bytes at most in all; names that would leave their
    folder are refused."""
    members: dict[str, bytes] = {}
    total = 0
    for name in archive.namelist():
        if not name.startswith(PREFIX) or name.endswith("/"):
            continue
        parts = PurePosixPath(name).parts
        if any(part in ("..", "") for part in parts) or name.startswith("/") or "\\" in name:
            raise ValueError(f"{name!r}: an asset's name may not leave the assets folder.")
        members[name] = keras_file.read_member(archive, name, limit - total)
        total += len(members[name])
    return members


def load(model: Any, members: dict[str, bytes]) -> None:
    """Hand each layer that reads assets a folder holding the files saved under its path."""
    layers = {group: layer for group, layer in weights.layer_groups(model).items() if hasattr(layer, "load_assets")}
    if not layers:
        return
    with tempfile.TemporaryDirectory() as scratch:
        for group, layer in layers.items():
            prefix = _folder(group)
            folder = Path(scratch, prefix)
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in members.items():
                inner = name[len(prefix):]
                if name.startswith(prefix) and inner and not _belongs_to_a_sub_layer(inner, group, layers):
                    target = folder / inner
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
            layer.load_assets(str(folder))


def _belongs_to_a_sub_layer(inner: str, group: str, layers: dict[str, Any]) -> bool:
    """Whether an asset under this layer's folder lies in the folder of one of its sub-layers instead."""
    path = f"{group}/{inner}" if group else inner
    return any(other != group and other.startswith(f"{group}/" if group else "") and path.startswith(f"{other}/")
               for other in layers)
