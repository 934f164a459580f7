"""get_file: download a file once into Keras's cache folder, verify it, and extract archives without trust.

Files land where Keras puts them ($KERAS_HOME, default ~/.keras, then `cache_subdir`), so a file Keras already
downloaded is reused. A download is written to a temporary file next to its target and renamed only once it is
complete and its hash matches: an interrupted or corrupt download never leaves a file under the final name.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import stat
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from lamina.utils.progbar import Progbar

CHUNK_SIZE = 1 << 16
TIMEOUT_S = 60.0
ARCHIVE_FORMATS = ("tar", "zip")


class DownloadError(OSError):
    """A file could not be downloaded (no network, server error, connection dropped)."""


def keras_home() -> str:
    """The folder Keras keeps its files in: $KERAS_HOME, else ~/.keras (/tmp/.keras when home is read-only)."""
    if os.environ.get("KERAS_HOME"):
        return os.environ["KERAS_HOME"]
    home = os.path.expanduser("~")
    return os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")


def resolve_hasher(algorithm: str, file_hash: str | None = None) -> "hashlib._Hash":
    """sha256 or md5; "auto" picks sha256 for a 64-character hash and md5 otherwise."""
    if algorithm == "auto":
        algorithm = "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5', got {algorithm!r}.")
    return hashlib.new(algorithm)


def hash_file(fpath: str | os.PathLike, algorithm: str = "sha256", chunk_size: int = CHUNK_SIZE) -> str:
    """The hex digest of a file's contents."""
    hasher = resolve_hasher(algorithm)
    with open(fpath, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str | os.PathLike, file_hash: str, algorithm: str = "auto",
                  chunk_size: int = CHUNK_SIZE) -> bool:
    """Whether the file's hash (sha256 or md5, see resolve_hasher) equals `file_hash`."""
    hasher = resolve_hasher(algorithm, file_hash)
    with open(fpath, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest() == str(file_hash).lower()


def _cache_folder(cache_dir: str | os.PathLike | None, cache_subdir: str) -> str:
    base = os.path.expanduser(os.fspath(cache_dir)) if cache_dir is not None else keras_home()
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK):
        base = os.path.join(tempfile.gettempdir(), ".keras")
    folder = os.path.join(base, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    return folder


def _targets(fname: str | None, origin: str, datadir: str, extract: bool) -> tuple[str, str | None]:
    """(where the download goes, where it is extracted), following Keras's naming."""
    given = fname
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Cannot tell the file name from origin={origin!r}: pass fname.")
    elif os.sep in fname or (os.altsep and os.altsep in fname):
        raise ValueError(f"fname must be a file name, not a path (use cache_dir for the folder); got {fname!r}.")
    if not extract:
        return os.path.join(datadir, fname), None
    if given and "." in fname:
        stem = fname[:fname.find(".")]
        return os.path.join(datadir, fname), os.path.join(datadir, f"{stem}_extracted")
    return os.path.join(datadir, f"{fname}_archive"), os.path.join(datadir, fname)


def get_file(fname: str | os.PathLike | None = None, origin: str | None = None, untar: bool = False,
             md5_hash: str | None = None, file_hash: str | None = None, cache_subdir: str = "datasets",
             hash_algorithm: str = "auto", extract: bool = False, archive_format: str | list[str] | None = "auto",
             cache_dir: str | os.PathLike | None = None, force_download: bool = False) -> str:
    """Download `origin` into the cache (unless a valid copy is there) and return its path.

    With `extract` (or `untar`) the archive is unpacked next to it and the extraction folder is returned; it is
    unpacked again only when it was just downloaded or that folder is missing (Keras unpacks on every call).
    An archive that is not one of `archive_format` is an error (Keras only warns).
    """
    if origin is None:
        raise ValueError("get_file needs origin, the URL of the file to download.")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    resolve_hasher(hash_algorithm, file_hash)  # reject a bad algorithm before any download
    datadir = _cache_folder(cache_dir, cache_subdir)
    name = os.fspath(fname) if fname is not None else None
    download_target, extraction_dir = _targets(name, origin, datadir, bool(extract or untar))
    downloaded = False
    if force_download or not os.path.exists(download_target):
        _download(origin, download_target, file_hash, hash_algorithm)
        downloaded = True
    elif file_hash is not None and not validate_file(download_target, file_hash, hash_algorithm):
        print(f"{download_target} exists but its {hash_algorithm} hash is not {file_hash} (an incomplete or "
              "outdated file): downloading it again.")
        _download(origin, download_target, file_hash, hash_algorithm)
        downloaded = True
    if extraction_dir is None:
        return download_target
    if downloaded or not os.path.isdir(extraction_dir):
        formats = "tar" if untar else archive_format
        if not extract_archive(download_target, extraction_dir, formats):
            raise ValueError(f"{download_target} is not a {' or '.join(_formats(formats))} archive: cannot "
                             "extract it.")
    return extraction_dir


def _offline_hint(fname: str, origin: str, target: str) -> str:
    return (f"To use {fname} without a network, download it from {origin} elsewhere and put it at {target} "
            f"(in the folder {os.path.dirname(target)}).")


def _download(origin: str, target: str, file_hash: str | None, hash_algorithm: str) -> None:
    """Stream `origin` into a temporary file next to `target`; rename it there once complete and verified."""
    fname = os.path.basename(target)
    print(f"Downloading data from {origin}")
    folder = os.path.dirname(target)
    handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{fname}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            digest = _fetch(origin, out, resolve_hasher(hash_algorithm, file_hash))
        if file_hash is not None and digest != file_hash.lower():
            raise ValueError(f"The file downloaded from {origin} is incomplete or corrupted: its {hash_algorithm} "
                             f"hash is {digest}, expected {file_hash}. Nothing was saved.")
        os.replace(partial, target)
    except (urllib.error.URLError, http.client.HTTPException, socket.timeout, OSError) as error:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        if isinstance(error, urllib.error.HTTPError):
            reason = f"HTTP {error.code} {error.msg}"
        raise DownloadError(f"Could not download {fname} from {origin}: {reason}. "
                            f"{_offline_hint(fname, origin, target)}") from error
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _fetch(origin: str, out: BinaryIO, hasher: "hashlib._Hash") -> str:
    """Copy the response body to `out` with a progress bar; raise if it ends before its announced length."""
    with urllib.request.urlopen(origin, timeout=TIMEOUT_S) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        progbar = Progbar(total, unit_name="B")
        received = 0
        while True:
            chunk = response.read(CHUNK_SIZE)
            if not chunk:
                break
            out.write(chunk)
            hasher.update(chunk)
            received += len(chunk)
            progbar.update(received)
    if total is not None and received != total:
        raise http.client.IncompleteRead(b"", total - received)
    return hasher.hexdigest()


def _formats(archive_format: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if archive_format is None:
        return []
    if archive_format == "auto":
        return list(ARCHIVE_FORMATS)
    formats = [archive_format] if isinstance(archive_format, str) else list(archive_format)
    for name in formats:
        if name not in ARCHIVE_FORMATS:
            raise ValueError(f"archive_format must be 'auto', 'tar', 'zip', a list of them or None; got {name!r}.")
    return formats


def extract_archive(file_path: str | os.PathLike, path: str | os.PathLike = ".",
                    archive_format: str | list[str] | None = "auto") -> bool:
    """Extract a tar or zip archive into `path`; False when it is none of `archive_format`.

    Every member is checked first: an absolute name, a '..' component, a link or a special file refuses the
    whole archive (ValueError). Members are written into a temporary folder renamed to `path` at the end.
    """
    file_path, path = os.fspath(file_path), os.fspath(path)
    for kind in _formats(archive_format):
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                members = [(_checked_name(m.name, file_path), m) for m in archive.getmembers()]
                for _, member in members:
                    if not (member.isfile() or member.isdir()):
                        raise ValueError(f"Refusing to extract {file_path}: member {member.name!r} is a link or a "
                                         "special file.")
                _extract_into(path, members, lambda m: archive.extractfile(m), lambda m: m.isdir())
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                members = [(_checked_name(m.filename, file_path), m) for m in archive.infolist()]
                for _, member in members:
                    if stat.S_ISLNK(member.external_attr >> 16):
                        raise ValueError(f"Refusing to extract {file_path}: member {member.filename!r} is a link.")
                _extract_into(path, members, archive.open, lambda m: m.is_dir())
            return True
    return False


def _checked_name(name: str, archive: str) -> PurePosixPath:
    """The member's relative path; refuses names that would land outside the extraction folder."""
    parts = PurePosixPath(name.replace("\\", "/"))
    if (parts.is_absolute() or name.startswith(("/", "\\")) or ".." in parts.parts
            or (parts.parts and ":" in parts.parts[0])):
        raise ValueError(f"Refusing to extract {archive}: member {name!r} would be written outside the target "
                         "folder (an absolute path or a '..' component).")
    return parts


def _extract_into(path: str, members: list, open_member, is_dir) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        for relative, member in members:
            destination = Path(staging, *relative.parts)
            if is_dir(member):
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            source = open_member(member)
            with source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK_SIZE)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
        os.replace(staging, path)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
