"""The bytes on disk: atomic writes, the .keras zip archive, and weights as a NumPy .npz without pickle.

Weights are kept in `model.weights.h5` as Keras 3 does (see h5_store); `model.weights.npz`, which earlier
Lamina releases wrote, is still read. Reading trusts nothing in a file: every size is checked against a limit
before it is read, every array header before its data, and arrays that would need pickle are refused.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import secrets
import socket
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np

MAX_MEMBER_BYTES = 4 * 1024**3  # the most any member may unpack to: a guard against zip bombs
MAX_CONFIG_BYTES = 64 * 1024**2  # config.json and metadata.json
WEIGHTS_MEMBER = "model.weights.npz"  # earlier Lamina releases
H5_WEIGHTS_MEMBER = "model.weights.h5"  # Keras 3, and Lamina now

# What reading a damaged zip or npy can raise, besides ValueError: each is reported as a ValueError.
READ_ERRORS = (ValueError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, OverflowError)


# --- writing ---------------------------------------------------------------------------------------------


def atomic_write(filepath: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write a file through `write(stream)` so that it appears whole or not at all.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, and the temporary file is
    renamed over the target (then the folder is fsynced). On any failure the temporary file is removed and
    a file that was already at the target is left as it was.
    """
    directory = filepath.parent
    _remove_orphans(directory, filepath.name)
    temporary = directory / f".{filepath.name}.{_HOST}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    # os.open with mode 0o666 lets the umask set the permissions, as for any new file
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


# The temporary file's name says which process writes it: a later save removes those of processes that died
# (killed mid-save) on this machine, and leaves alone those of live processes and of other machines.
_HOST = "".join(c if c.isalnum() else "-" for c in socket.gethostname())[:40] or "host"


def _remove_orphans(directory: Path, name: str) -> None:
    """Delete the temporary files that dead processes of this machine left while writing `name`."""
    prefix = f".{name}.{_HOST}."
    try:
        leftovers = [entry for entry in os.listdir(directory) if entry.startswith(prefix) and entry.endswith(".tmp")]
    except OSError:
        return
    for entry in leftovers:
        pid = entry[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(directory / entry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (another user's) or cannot be asked: keep its file
    return True


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; some systems (Windows) cannot open a folder, and need not."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_archive(filepath: Path, members: dict[str, bytes]) -> None:
    """Atomically write a zip holding `members`; JSON is deflated, weights are stored as they are."""
    stored = (".npz", ".h5")

    def write(stream: BinaryIO) -> None:
        with zipfile.ZipFile(stream, "w") as archive:
            for name, data in members.items():
                method = zipfile.ZIP_STORED if name.endswith(stored) else zipfile.ZIP_DEFLATED
                archive.writestr(name, data, compress_type=method)

    atomic_write(filepath, write)


def encode_json(value: Any, what: str) -> bytes:
    try:
        return json.dumps(value, indent=2).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise ValueError(f"The {what} cannot be written as JSON: {error}. Configs must hold only numbers, "
                         "strings, lists, dicts and None.") from None


def encode_npz(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (a zip of .npy files, one per key); np.savez never pickles plain numeric arrays."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


# --- reading ---------------------------------------------------------------------------------------------


def open_archive(filepath: Path) -> zipfile.ZipFile:
    """The .keras file as an open zip; a file that is not a whole zip raises ValueError."""
    try:
        archive = zipfile.ZipFile(filepath)
    except zipfile.BadZipFile as error:
        raise ValueError(f"it is not a valid .keras file: not a complete zip archive ({error}).") from None
    # A cut-off file can end inside the stored weights, whose own zip directory then looks like the archive's:
    # its members would not start at the beginning of the file.
    if archive.infolist() and min(info.header_offset for info in archive.infolist()) != 0:
        archive.close()
        raise ValueError("it is not a valid .keras file: not a complete zip archive (truncated, or data before "
                         "the zip).")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The bytes of one member, refusing more than `limit` whatever the zip declares."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(f"the archive has no {name!r} (it holds {archive.namelist()[:10]}).") from None
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
        raise ValueError(f"{name!r} is encrypted or uses compression method {info.compress_type}; a .keras file "
                         "holds stored or deflated members only.")
    if info.file_size > limit:
        raise ValueError(f"{name!r} declares {info.file_size} bytes, over the limit of {limit}.")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except READ_ERRORS as error:
        raise ValueError(f"{name!r} is damaged: {error}") from None
    if len(data) > limit:
        raise ValueError(f"{name!r} unpacks to more than {limit} bytes.")
    return data


def decode_json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{name!r} is not valid JSON: {error}") from None


def decode_npz(data: bytes, limit: int = MAX_MEMBER_BYTES) -> dict[str, np.ndarray]:
    """The arrays of an .npz, by key, at most `limit` bytes in all; each .npy header is checked before its data
    is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as npz:
            infos = npz.infolist()
            if sum(info.file_size for info in infos) > limit:
                raise ValueError(f"the weights declare more than {limit} bytes in all.")
            arrays = {}
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise ValueError(f"the weights hold {info.filename!r}, which is not an .npy array.")
                key = info.filename[: -len(".npy")]
                arrays[key] = _decode_npy(read_member(npz, info.filename, limit), key)
            return arrays
    except READ_ERRORS as error:
        raise ValueError(f"the weights are not a valid .npz file: {error}") from None


def _decode_npy(raw: bytes, key: str) -> np.ndarray:
    stream = io.BytesIO(raw)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"weight {key!r} uses .npy format version {version}, which Lamina does not read.")
    if dtype.hasobject:
        raise ValueError(f"weight {key!r} is an array of Python objects, which only pickle could load; "
                         "Lamina never unpickles.")
    if dtype.kind not in "biuf":
        raise ValueError(f"weight {key!r} holds {dtype} values; weights must be numbers.")
    expected, present = math.prod(shape) * dtype.itemsize, len(raw) - stream.tell()
    if present != expected:
        raise ValueError(f"weight {key!r} of shape {shape} and dtype {dtype} needs {expected} bytes of data, "
                         f"the file holds {present}.")
    return np.load(io.BytesIO(raw), allow_pickle=False)
