"""load_data of each data set on small files of the real layouts, placed in a temporary KERAS_HOME cache."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest

from lamina import backend
from lamina.datasets import (boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb, mnist,
                             reuters)
from lamina.datasets._pickle_stream import UnsafePickleError, loads


def _sha256(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _place(monkeypatch, module, path, attribute="FILE_HASH", algorithm="sha256") -> None:
    """Make the module accept the fixture file at `path` as its download."""
    monkeypatch.setattr(module, attribute, hashlib.new(algorithm, open(path, "rb").read()).hexdigest())


# ---------------------------------------------------------------------------------------------- images


def _mnist_arrays(rng):
    return {"x_train": rng.integers(0, 256, (7, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, 7).astype(np.uint8),
            "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, 3).astype(np.uint8)}


def test_mnist_from_the_cache(keras_home, monkeypatch):
    arrays = _mnist_arrays(np.random.default_rng(0))
    np.savez(keras_home / "mnist.npz", **arrays)
    _place(monkeypatch, mnist, keras_home / "mnist.npz")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (7, 28, 28) and x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_test, arrays["x_test"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_mnist_downloaded_from_a_server(server, keras_home, monkeypatch):
    buffer = io.BytesIO()
    arrays = _mnist_arrays(np.random.default_rng(1))
    np.savez(buffer, **arrays)
    server.add("/tf/mnist.npz", buffer.getvalue())
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", server.url("/tf/"))
    monkeypatch.setattr(mnist, "FILE_HASH", hashlib.sha256(buffer.getvalue()).hexdigest())
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert (keras_home / "mnist.npz").exists()


def test_mnist_without_the_file_says_where_to_put_it(keras_home, monkeypatch):
    monkeypatch.setattr(mnist, "ORIGIN_FOLDER", "http://127.0.0.1:9/")
    with pytest.raises(OSError, match="mnist.npz") as caught:
        mnist.load_data()
    assert str(keras_home / "mnist.npz") in str(caught.value)


def _idx(path, magic: int, array: np.ndarray) -> None:
    header = struct.pack(">i", magic) + b"".join(struct.pack(">i", n) for n in array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.tobytes())


def test_fashion_mnist(keras_home):
    rng = np.random.default_rng(2)
    folder = keras_home / "fashion-mnist"
    folder.mkdir()
    x_train, y_train = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), rng.integers(0, 10, 5).astype(np.uint8)
    x_test, y_test = rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), rng.integers(0, 10, 2).astype(np.uint8)
    _idx(folder / "train-labels-idx1-ubyte.gz", 2049, y_train)
    _idx(folder / "train-images-idx3-ubyte.gz", 2051, x_train)
    _idx(folder / "t10k-labels-idx1-ubyte.gz", 2049, y_test)
    _idx(folder / "t10k-images-idx3-ubyte.gz", 2051, x_test)
    (a, b), (c, d) = fashion_mnist.load_data()
    for got, expected in ((a, x_train), (b, y_train), (c, x_test), (d, y_test)):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)


# ---- CIFAR: batch files written byte by byte as the published ones are (Python 2 cPickle, protocol 2)


def _py2_str(data: bytes) -> bytes:
    return (b"U" + bytes([len(data)]) if len(data) < 256 else b"T" + struct.pack("<i", len(data))) + data


def _py2_int(value: int) -> bytes:
    return b"K" + bytes([value]) if value < 256 else b"M" + struct.pack("<H", value)


def _py2_value(value) -> bytes:
    if isinstance(value, bytes):
        return _py2_str(value)
    if isinstance(value, list):
        items = b"".join(_py2_str(v) if isinstance(v, bytes) else _py2_int(v) for v in value)
        return b"](" + items + b"e"
    shape = b"".join(b"M" + struct.pack("<H", n) for n in value.shape)
    return (b"cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nK\x00\x85U\x01b\x87R(K\x01" + shape
            + b"\x86cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
            + b"\x89" + _py2_str(value.tobytes()) + b"tb")


def _py2_pickle(batch: dict) -> bytes:
    body = b"".join(_py2_str(key.encode()) + _py2_value(value) for key, value in batch.items())
    return b"\x80\x02}q\x00(" + body + b"u."


def _batch(rng, n: int, label_keys: dict[str, int]) -> dict:
    batch = {"batch_label": b"training batch", **{key: rng.integers(0, top, n).tolist()
                                                  for key, top in label_keys.items()}}
    batch["data"] = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    batch["filenames"] = [f"img_{i}.png".encode() for i in range(n)]
    return batch


def _tar_gz(path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.fixture
def cifar10_batches(keras_home, monkeypatch):
    rng = np.random.default_rng(3)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches = {name: _batch(rng, 2 if name != "test_batch" else 3, {"labels": 10}) for name in names}
    archive = keras_home / "cifar-10-batches-py-target_archive"
    _tar_gz(archive, {f"cifar-10-batches-py/{name}": _py2_pickle(batch) for name, batch in batches.items()})
    _place(monkeypatch, cifar10, archive)
    return batches


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cifar10(cifar10_batches, keras_home, data_format):
    previous = backend.image_data_format()
    backend.set_image_data_format(data_format)
    try:
        (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    finally:
        backend.set_image_data_format(previous)
    assert (keras_home / "cifar-10-batches-py-target" / "cifar-10-batches-py" / "test_batch").exists()
    shape = (32, 32, 3) if data_format == "channels_last" else (3, 32, 32)
    assert x_train.shape == (10, *shape) and x_test.shape == (3, *shape)
    assert y_train.shape == (10, 1) and y_test.shape == (3, 1)
    assert {x_train.dtype, x_test.dtype, y_train.dtype, y_test.dtype} == {np.dtype(np.uint8)}
    first = cifar10_batches["data_batch_1"]
    image = first["data"][1].reshape(3, 32, 32)
    np.testing.assert_array_equal(x_train[1], image.transpose(1, 2, 0) if data_format == "channels_last" else image)
    np.testing.assert_array_equal(y_test[:, 0], cifar10_batches["test_batch"]["labels"])
    train_labels = sum((cifar10_batches[f"data_batch_{i}"]["labels"] for i in range(1, 6)), [])
    np.testing.assert_array_equal(y_train[:, 0], train_labels)


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_from_a_python3_pickle(keras_home, monkeypatch, label_mode):
    # Python 3's pickle at protocol 2 writes bytes through _codecs.encode: read as well.
    rng = np.random.default_rng(4)
    batches = {name: _batch(rng, n, {"fine_labels": 100, "coarse_labels": 20}) for name, n in (("train", 4),
                                                                                              ("test", 2))}
    members = {f"cifar-100-python/{name}": pickle.dumps({key.encode(): value for key, value in batch.items()},
                                                        protocol=2) for name, batch in batches.items()}
    archive = keras_home / "cifar-100-python-target_archive"
    _tar_gz(archive, members)
    _place(monkeypatch, cifar100, archive)
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode)
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (2, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (4, 1) and y_test.shape == (2, 1) and y_train.dtype == np.int64
    np.testing.assert_array_equal(y_train[:, 0], batches["train"][f"{label_mode}_labels"])
    np.testing.assert_array_equal(x_test[1], batches["test"]["data"][1].reshape(3, 32, 32).transpose(1, 2, 0))
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_tampered_cifar_batch_is_refused_not_run(cifar10_batches, keras_home, monkeypatch):
    members = {f"cifar-10-batches-py/{name}": _py2_pickle(batch) for name, batch in cifar10_batches.items()}
    members["cifar-10-batches-py/test_batch"] = pickle.dumps({b"data": _Boom()}, protocol=2)
    archive = keras_home / "cifar-10-batches-py-target_archive"
    _tar_gz(archive, members)
    _place(monkeypatch, cifar10, archive)
    monkeypatch.setattr(os, "system", lambda *args: pytest.fail("the stream ran code"))
    with pytest.raises(UnsafePickleError, match="test_batch.*(posix|os|nt).system"):
        cifar10.load_data()


@pytest.mark.parametrize("payload", [b"\x80\x02cbuiltins\neval\nX\x04\x00\x00\x001+1\x85R.", b"\x80\x04\x95",
                                     b"\x80\x02]q\x00(K\x01K\x02e", b"\x80\x02c__main__\nThing\n)\x81."])
def test_the_stream_reader_refuses_what_data_files_do_not_hold(payload):
    with pytest.raises(UnsafePickleError):
        loads(payload)


def test_the_stream_reader_reads_plain_values_at_every_protocol():
    value = {b"a": [1, 300, 70000, -5, 2**40], "b": (1.5, None, True), "c": np.arange(6, dtype=">i4").reshape(2, 3)}
    for protocol in range(1, 5):
        got = loads(pickle.dumps(value, protocol=protocol))
        assert got[b"a"] == value[b"a"] and got["b"] == value["b"]
        np.testing.assert_array_equal(got["c"], value["c"])
        assert got["c"].dtype == np.dtype(">i4")
    shared = np.arange(3)
    got = loads(pickle.dumps([shared, {"again": shared}], protocol=2))
    assert got[0] is got[1]["again"] and isinstance(got[0], np.ndarray)


def test_a_tampered_object_array_in_imdb_npz_is_refused(keras_home, monkeypatch):
    evil = np.empty(1, dtype=object)
    evil[0] = _Boom()
    np.savez(keras_home / "imdb.npz", x_train=evil, y_train=np.zeros(1), x_test=evil, y_test=np.zeros(1))
    _place(monkeypatch, imdb, keras_home / "imdb.npz")
    monkeypatch.setattr(os, "system", lambda *args: pytest.fail("the stream ran code"))
    with pytest.raises(UnsafePickleError, match="imdb.npz:x_train.npy"):
        imdb.load_data()


# ------------------------------------------------------------------------------------------- sequences


def _ragged(rng, n: int, top: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = rng.integers(1, top, rng.integers(1, 12)).tolist()
    return out


def _keras_words(xs, labels, num_words, skip_top, maxlen, start_char, oov_char, index_from):
    """The word transforms as Keras describes them, one word at a time (the reference)."""
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    else:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
        xs, labels = [x for x, _ in kept], [y for _, y in kept]
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    return xs, list(labels)


OPTIONS = [{}, {"num_words": 20, "skip_top": 5}, {"maxlen": 8, "oov_char": None, "num_words": 30},
           {"start_char": None, "index_from": 0, "seed": 7}]


@pytest.fixture
def imdb_file(keras_home, monkeypatch):
    rng = np.random.default_rng(5)
    arrays = {"x_train": _ragged(rng, 30, 60), "y_train": rng.integers(0, 2, 30),
              "x_test": _ragged(rng, 20, 60), "y_test": rng.integers(0, 2, 20)}
    np.savez(keras_home / "imdb.npz", **arrays)
    _place(monkeypatch, imdb, keras_home / "imdb.npz")
    return arrays


@pytest.mark.parametrize("options", OPTIONS)
def test_imdb(imdb_file, options):
    (x_train, y_train), (x_test, y_test) = imdb.load_data(**options)
    seed = options.get("seed", 113)
    words = {k: options.get(k, d) for k, d in (("num_words", None), ("skip_top", 0), ("maxlen", None),
                                                ("start_char", 1), ("oov_char", 2), ("index_from", 3))}
    rng = np.random.RandomState(seed)
    parts = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        order = np.arange(len(imdb_file[x_key]))
        rng.shuffle(order)
        parts.append((list(imdb_file[x_key][order]), list(imdb_file[y_key][order])))
    ref_train = _keras_words(*parts[0], **{**words, "num_words": words["num_words"]})
    ref_test = _keras_words(*parts[1], **words)
    if not words["num_words"]:  # Keras takes the largest word over both parts together
        both = _keras_words(parts[0][0] + parts[1][0], parts[0][1] + parts[1][1], **words)
        cut = len(ref_train[0])
        ref_train, ref_test = (both[0][:cut], both[1][:cut]), (both[0][cut:], both[1][cut:])
    assert x_train.dtype == object and x_train.ndim == 1
    assert [list(x) for x in x_train] == ref_train[0] and [list(x) for x in x_test] == ref_test[0]
    assert y_train.tolist() == ref_train[1] and y_test.tolist() == ref_test[1]
    assert all(type(w) is int for x in x_train for w in x)


def test_imdb_bad_options(imdb_file):
    with pytest.raises(ValueError, match="num_words"):
        imdb.load_data(num_words=-1)
    with pytest.raises(ValueError, match="maxlen=2"):
        imdb.load_data(maxlen=2)
    with pytest.raises(TypeError, match="nb_words"):
        imdb.load_data(nb_words=10)


def test_word_indexes_and_label_names(keras_home, monkeypatch):
    (keras_home / "imdb_word_index.json").write_text(json.dumps({"the": 1, "movie": 2}))
    _place(monkeypatch, imdb, keras_home / "imdb_word_index.json", "WORD_INDEX_HASH", "md5")
    assert imdb.get_word_index() == {"the": 1, "movie": 2}
    (keras_home / "reuters_word_index.json").write_text(json.dumps({"said": 1}))
    _place(monkeypatch, reuters, keras_home / "reuters_word_index.json", "WORD_INDEX_HASH", "md5")
    assert reuters.get_word_index() == {"said": 1}
    names = reuters.get_label_names()
    assert len(names) == 46 and names[:3] == ("cocoa", "grain", "veg-oil") and names[-1] == "lead"


@pytest.mark.parametrize("options", [{}, {"num_words": 15, "test_split": 0.3}, {"maxlen": 6, "oov_char": None}])
def test_reuters(keras_home, monkeypatch, options):
    rng = np.random.default_rng(6)
    xs, ys = _ragged(rng, 40, 50), rng.integers(0, 46, 40)
    np.savez(keras_home / "reuters.npz", x=xs, y=ys)
    _place(monkeypatch, reuters, keras_home / "reuters.npz")
    (x_train, y_train), (x_test, y_test) = reuters.load_data(**options)
    order = np.arange(40)
    np.random.RandomState(113).shuffle(order)
    words = {k: options.get(k, d) for k, d in (("num_words", None), ("skip_top", 0), ("maxlen", None),
                                                ("start_char", 1), ("oov_char", 2), ("index_from", 3))}
    ref_x, ref_y = _keras_words(list(xs[order]), list(ys[order]), **words)
    cut = int(len(ref_x) * (1 - options.get("test_split", 0.2)))
    assert [list(x) for x in x_train] == ref_x[:cut] and [list(x) for x in x_test] == ref_x[cut:]
    assert y_train.tolist() == ref_y[:cut] and y_test.tolist() == ref_y[cut:]
    assert x_train.dtype == object and y_train.dtype == ys.dtype


# ----------------------------------------------------------------------------------------------- tables


@pytest.mark.parametrize("module, features, kwargs", [(boston_housing, 13, {}),
                                                       (boston_housing, 13, {"test_split": 0.5, "seed": 1}),
                                                       (california_housing, 8, {}),
                                                       (california_housing, 8, {"version": "small"})])
def test_housing(keras_home, monkeypatch, module, features, kwargs):
    n = 650 if module is california_housing else 50
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(n, features)), rng.normal(size=n) * 1e5
    np.savez(keras_home / module.FILE_NAME, x=x, y=y)
    _place(monkeypatch, module, keras_home / module.FILE_NAME)
    (x_train, y_train), (x_test, y_test) = module.load_data(**kwargs)
    if kwargs.get("version") == "small":
        x, y = x[:600], y[:600]
    order = np.arange(len(x))
    np.random.RandomState(kwargs.get("seed", 113)).shuffle(order)
    cut = int(len(x) * (1 - kwargs.get("test_split", 0.2)))
    np.testing.assert_array_equal(x_train, x[order][:cut])
    np.testing.assert_array_equal(y_test, y[order][cut:])
    assert x_train.shape == (cut, features) and y_train.shape == (cut,) and x_test.shape == (len(x) - cut, features)
    with pytest.raises(ValueError, match="test_split"):
        module.load_data(test_split=1.0)


def test_california_version_is_checked():
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data(version="medium")


# ---------------------------------------------------------------------------------------- the demo command


def test_demo_on_mnist_from_the_cache(keras_home, monkeypatch, tmp_path, capsys):
    from lamina.cli import demo

    rng = np.random.default_rng(8)
    arrays = {"x_train": rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), "y_train": rng.integers(0, 10, 64),
              "x_test": rng.integers(0, 256, (16, 28, 28), dtype=np.uint8), "y_test": rng.integers(0, 10, 16)}
    np.savez(keras_home / "mnist.npz", **arrays)
    _place(monkeypatch, mnist, keras_home / "mnist.npz")
    with backend.use("torch"):  # the data path is the same on both backends; the digits demo covers jax
        status = demo(1, str(tmp_path / "mnist.keras"), "mnist")
    out = capsys.readouterr()
    assert "mnist: 64 training and 16 test images of 28x28 pixels" in out.out
    assert "reloaded predictions identical: True" in out.out
    assert status == 1 and "test accuracy" in out.err  # random labels: the accuracy check fails, nothing else


def test_demo_on_mnist_without_the_file_says_how_to_get_it(keras_home, tmp_path, capsys):
    from lamina.cli import main

    status = main(["demo", "--dataset", "mnist", "--output", str(tmp_path / "m.keras")])
    err = capsys.readouterr().err
    assert status == 2 and str(keras_home / "mnist.npz") in err and "mnist.load_data()" in err
    assert not (tmp_path / "m.keras").exists()
