"""get_file against a local HTTP server: download, cache reuse, hashes, dropped connections, archives."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import tarfile
import zipfile

import pytest

from lamina.utils import get_file
from lamina.utils.file_utils import DownloadError, hash_file, validate_file

BODY = bytes(range(256)) * 1000  # 256 kB: several chunks


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _leftovers(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_download_verifies_and_caches(server, keras_home):
    url = server.add("/data/file.bin", BODY)
    path = get_file("file.bin", origin=url, file_hash=_sha256(BODY))
    assert path == str(keras_home / "file.bin")
    assert open(path, "rb").read() == BODY
    assert get_file("file.bin", origin=url, file_hash=_sha256(BODY)) == path
    assert get_file(origin=url) == path  # the name comes from the URL; no hash: the cached file is used
    assert server.hits("/data/file.bin") == 1
    get_file("file.bin", origin=url, force_download=True)
    assert server.hits("/data/file.bin") == 2
    assert _leftovers(keras_home) == []


def test_md5_and_explicit_algorithms(server, tmp_path):
    url = server.add("/f.txt", b"hello")
    md5 = hashlib.md5(b"hello").hexdigest()
    path = get_file("f.txt", origin=url, md5_hash=md5, cache_dir=tmp_path, cache_subdir="sub")
    assert path == str(tmp_path / "sub" / "f.txt")
    assert validate_file(path, md5) and validate_file(path, _sha256(b"hello"))
    assert not validate_file(path, md5, algorithm="sha256")
    assert hash_file(path) == _sha256(b"hello") and hash_file(path, "md5") == md5
    with pytest.raises(ValueError, match="hash_algorithm"):
        get_file("f.txt", origin=url, file_hash=md5, hash_algorithm="sha1", cache_dir=tmp_path)


def test_cached_file_with_wrong_hash_is_downloaded_again(server, keras_home):
    url = server.add("/file.bin", BODY)
    (keras_home / "file.bin").write_bytes(b"truncated")
    path = get_file("file.bin", origin=url, file_hash=_sha256(BODY))
    assert open(path, "rb").read() == BODY and server.hits("/file.bin") == 1


def test_checksum_mismatch_leaves_no_file(server, keras_home):
    url = server.add("/file.bin", BODY)
    with pytest.raises(ValueError, match="corrupted.*expected 0+"):
        get_file("file.bin", origin=url, file_hash="0" * 64)
    assert os.listdir(keras_home) == []


def test_dropped_connection_leaves_no_file(server, keras_home):
    server.add("/file.bin", BODY)
    url = server.url("/drop/file.bin")
    with pytest.raises(DownloadError) as caught:
        get_file("file.bin", origin=url)
    message = str(caught.value)
    assert "file.bin" in message and url in message and str(keras_home) in message
    assert os.listdir(keras_home) == []


def test_http_error_names_the_status(server, keras_home):
    with pytest.raises(DownloadError, match="404"):
        get_file("missing.bin", origin=server.url("/missing.bin"))
    assert os.listdir(keras_home) == []


def test_no_server_gives_the_url_and_the_folder(keras_home):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mnist.npz"
    with pytest.raises(DownloadError) as caught:
        get_file("mnist.npz", origin=url)
    message = str(caught.value)
    assert "mnist.npz" in message and url in message
    assert str(keras_home / "mnist.npz") in message and "without a network" in message
    assert os.listdir(keras_home) == []


def test_bad_arguments():
    with pytest.raises(ValueError, match="origin"):
        get_file("x.bin")
    with pytest.raises(ValueError, match="not a path"):
        get_file(os.path.join("a", "b.bin"), origin="http://127.0.0.1:1/b.bin")


def test_extract_tar_follows_keras_naming(server, keras_home):
    archive = _tar({"top/a.txt": b"A", "top/sub/b.txt": b"B"})
    url = server.add("/things.tar.gz", archive)
    folder = get_file("things-target", origin=url, extract=True, file_hash=_sha256(archive))
    assert folder == str(keras_home / "things-target")
    assert (keras_home / "things-target_archive").exists()
    assert (keras_home / "things-target" / "top" / "sub" / "b.txt").read_bytes() == b"B"
    dotted = get_file("things.tar.gz", origin=url, extract=True)
    assert dotted == str(keras_home / "things_extracted")
    assert (keras_home / "things_extracted" / "top" / "a.txt").read_bytes() == b"A"
    untarred = get_file(origin=url, untar=True)
    assert untarred == str(keras_home / "things.tar.gz")
    assert server.hits("/things.tar.gz") == 3
    assert _leftovers(keras_home) == []


def test_extract_zip(server, keras_home):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("z/one.txt", b"1")
    url = server.add("/z.zip", buffer.getvalue())
    folder = get_file("z.zip", origin=url, extract=True)
    assert open(os.path.join(folder, "z", "one.txt"), "rb").read() == b"1"


@pytest.mark.parametrize("member", ["../escape.txt", "/abs/escape.txt", "ok/../../escape.txt", "link"])
def test_malicious_tar_members_are_refused(server, keras_home, member):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        ok = tarfile.TarInfo("fine.txt")
        ok.size = 1
        archive.addfile(ok, io.BytesIO(b"x"))
        info = tarfile.TarInfo(member)
        if member == "link":
            info.type, info.linkname = tarfile.SYMTYPE, "../../outside"
            archive.addfile(info)
        else:
            info.size = 4
            archive.addfile(info, io.BytesIO(b"evil"))
    url = server.add("/evil.tar", buffer.getvalue())
    with pytest.raises(ValueError, match="Refusing to extract"):
        get_file("evil", origin=url, extract=True)
    assert not (keras_home / "evil").exists()
    assert not (keras_home.parent / "escape.txt").exists() and not (keras_home / "escape.txt").exists()
    assert _leftovers(keras_home) == []


def test_malicious_zip_member_is_refused(server, keras_home):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escape.txt", b"evil")
    url = server.add("/evil.zip", buffer.getvalue())
    with pytest.raises(ValueError, match="Refusing to extract"):
        get_file("evil.zip", origin=url, extract=True)
    assert not (keras_home.parent / "escape.txt").exists()
