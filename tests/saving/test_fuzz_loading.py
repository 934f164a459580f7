"""Property-based loading of damaged files: every mutated `.keras` or Keras 2 `.h5` file loads or raises a
ValueError that names the member and the place in it; none crashes, hangs, or raises anything else.

The mutations: truncation, bit flips, members of the zip removed, swapped, duplicated or emptied; JSON edits
of config.json (and of a legacy file's model_config): values replaced by huge sizes, wrong types or deep
nesting, keys deleted; in the weights, datasets removed, reshaped (also to huge declared shapes stored in a
few bytes), or given another dtype. Loading runs in-process on the numpy backend; the examples are
derandomized, so that every run tries the same files.
"""

from __future__ import annotations

import copy
import functools
import io
import itertools
import json
import re
import signal
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator

import h5py
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import lamina
from lamina import backend, layers, models

# A file whose optimizer state is damaged loads, with a warning that training resumes with a fresh one.
pytestmark = [pytest.mark.filterwarnings("ignore:.*the optimizer state was not restored"),
              pytest.mark.filterwarnings("ignore:Duplicate name")]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SECONDS_PER_CASE = 10  # far above a load's time here (a few milliseconds): only a hang reaches it

# Examples per test: 2,050 in all.
SETTINGS = dict(derandomize=True, deadline=None, database=None)

HUGE = [10**9, 2**31, 2**40, 2**63, 10**30]
VALUES = [*HUGE, -1, 0, 1, 3, 1.5, float("inf"), "x", "", None, True, [], {}, [None], [1, 2, 3], {"a": 1},
          {"class_name": "Dense", "config": {}}, {"class_name": "NoSuchClass", "config": {}},
          {"class_name": "function", "config": "os.system"}, {"class_name": "__lambda__", "config": {}}]

# How a refusal begins, after "Cannot load '<file>': ": the member of the file (a zip member, or an attribute
# or group of a Keras 2 file) and then the place in it, or what makes the whole file unreadable.
PLACE = re.compile(r"(config\.json|model\.weights\.h5|model_config|model_weights|training_config|optimizer_weights): "
                   r"|'(config\.json|model\.weights\.h5|metadata\.json)' |the archive has no '"
                   r"|it is not a valid \.keras file|it is not a readable HDF5 file")


# --- seed files ----------------------------------------------------------------------------------------------


def _mlp() -> Any:
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"),
                               layers.BatchNormalization(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _functional() -> Any:
    left, right = layers.Input((3,), name="left"), layers.Input((2,), name="right")
    joined = layers.Concatenate()([layers.Dense(4, name="a")(left), right])
    return models.Model([left, right], layers.Dense(1, name="out")(joined))


def _cnn() -> Any:
    return models.Sequential([layers.Input((6, 6, 1)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(2)])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def numpy_backend() -> Iterator[None]:
    with backend.use("numpy"):
        lamina.set_random_seed(7)
        yield


class _Seeds(dict):
    def __repr__(self) -> str:  # a failing example is reported with its arguments: not with these bytes
        return f"seeds({sorted(self)})"


@pytest.fixture(scope="module")
def seeds(folder: Path, numpy_backend: None) -> dict[str, bytes]:
    """The bytes of valid files: three .keras models and two Keras 2 .h5 full-model files written here, and
    files Keras wrote (an MLP and an LSTM trained with their optimizer's state, a Keras 2 .h5 MLP)."""
    files = _Seeds()
    for name in KERAS_WRITTEN:
        files[name] = (FIXTURES / name).read_bytes()
    for name, make in (("mlp", _mlp), ("functional", _functional), ("cnn", _cnn)):
        model = make()
        for suffix in (".keras", ".h5"):
            if suffix == ".h5" and name == "cnn":
                continue
            path = folder / f"seed_{name}{suffix}"
            model.save(path)
            models.load_model(path)  # the seed itself loads
            files[f"{name}{suffix}"] = path.read_bytes()
    return files


# --- mutations -----------------------------------------------------------------------------------------------


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zipped(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in members:
            archive.writestr(name, payload)
    return buffer.getvalue()


def _json_places(value: Any, found: list, depth: int = 0) -> list:
    """(container, key) of every value in a decoded JSON document, down to a depth of 40."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found.append((value, key))
        if depth < 40:
            _json_places(item, found, depth + 1)
    return found


DEEP = "__deep__"  # stands for a nesting deeper than Python's recursion limit, written into the text


def mutate_json(text: str, draw: Callable[[Any], Any]) -> str:
    """One to three edits: a value replaced, a key deleted, a value wrapped in deep nesting."""
    document = json.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        places = _json_places(document, [])
        if not places:
            break
        container, key = places[draw(st.integers(0, len(places) - 1))]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "nest", "double"]))
        if action == "delete":
            del container[key]
        elif action == "nest":
            container[key] = DEEP
        elif action == "double" and isinstance(container[key], (int, float)) and not isinstance(container[key], bool):
            container[key] = container[key] * draw(st.sampled_from([2, 1000, -1]))
        else:
            container[key] = copy.deepcopy(draw(st.sampled_from(VALUES)))  # later edits may change it
    depth = draw(st.sampled_from([30, 5000]))
    text = json.dumps(document).replace(f'"{DEEP}"', "[" * depth + "1" + "]" * depth)
    return text if draw(st.integers(0, 9)) else text[:-1]


@functools.lru_cache(maxsize=16)
def _datasets(data: bytes) -> tuple[str, ...]:
    """The dataset paths of an h5 file (of a seed: asked for again and again)."""
    found: list[str] = []
    with h5py.File(io.BytesIO(data), "r") as file:
        file.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
    return tuple(sorted(found))


def mutate_h5(data: bytes, draw: Callable[[Any], Any]) -> bytes:
    """A dataset removed, replaced by one of another shape or dtype, or given a huge declared shape that its
    chunked storage keeps in a few bytes; or an attribute's JSON edited."""
    names = _datasets(data)
    buffer = io.BytesIO(data)
    with h5py.File(buffer, "r+") as file:
        json_attributes = [key for key in ("model_config", "training_config") if key in file.attrs]
        action = draw(st.sampled_from(["delete", "reshape", "dtype", "huge", "rename"]
                                      + (["attribute"] * 2 if json_attributes else [])))
        if action == "attribute":
            key = draw(st.sampled_from(json_attributes))
            raw = file.attrs[key]
            file.attrs[key] = mutate_json(raw.decode() if isinstance(raw, bytes) else str(raw), draw)
            return buffer.getvalue()
        name = names[draw(st.integers(0, len(names) - 1))]
        old = file[name]
        shape, dtype = old.shape, old.dtype
        del file[name]
        if action == "reshape":
            shape = draw(st.sampled_from([(), (0,), (1,), (7,), (2, 2), tuple(reversed(shape)) or (3,),
                                          (*shape, 1)]))
            file.create_dataset(name, data=np.ones(shape, "float32"))
        elif action == "dtype":
            kind = draw(st.sampled_from(["float16", "float64", "int8", "uint64", "bool", "complex64", "S4"]))
            file.create_dataset(name, data=np.ones(shape, "float32").astype(kind))
        elif action == "huge":
            file.create_dataset(name, shape=draw(st.sampled_from([(2**20, 2**12), (2**31,), (10**6, 10**6)])),
                                dtype="float32", chunks=True, compression="gzip")
        elif action == "rename":
            file.create_dataset(name + "_x", data=np.ones(shape, dtype))
    return buffer.getvalue()


def mutate_keras(data: bytes, draw: Callable[[Any], Any]) -> bytes:
    """A change to the zip's members: config.json edited, the weights edited, members removed, swapped,
    renamed, duplicated or emptied."""
    members = _members(data)
    names = list(members)
    action = draw(st.sampled_from(["json", "json", "json", "h5", "h5", "remove", "swap", "empty", "duplicate",
                                   "rename", "garbage"]))
    items = list(members.items())
    if action == "json":
        members["config.json"] = mutate_json(members["config.json"].decode(), draw).encode()
        items = list(members.items())
    elif action == "h5":
        members["model.weights.h5"] = mutate_h5(members["model.weights.h5"], draw)
        items = list(members.items())
    elif action == "remove":
        del members[draw(st.sampled_from(names))]
        items = list(members.items())
    elif action == "swap":
        first, second = draw(st.permutations(names))[:2]
        members[first], members[second] = members[second], members[first]
        items = list(members.items())
    elif action == "empty":
        members[draw(st.sampled_from(names))] = b""
        items = list(members.items())
    elif action == "duplicate":
        name = draw(st.sampled_from(names))
        items.append((name, draw(st.sampled_from([b"", b"{}", members[name][: len(members[name]) // 2]]))))
    elif action == "rename":
        name = draw(st.sampled_from(names))
        items = [(("x/" + key) if key == name else key, value) for key, value in items]
    else:
        name = draw(st.sampled_from(names))
        members[name] = draw(st.binary(min_size=0, max_size=64))
        items = list(members.items())
    return _zipped(items)


def mutate_bytes(data: bytes, draw: Callable[[Any], Any]) -> bytes:
    """Cut the file short, flip bits in it, or overwrite a run of bytes."""
    action = draw(st.sampled_from(["truncate", "flip", "flip", "overwrite"]))
    if action == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    mutated = bytearray(data)
    if action == "flip":
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(data) - 1))
            mutated[position] ^= 1 << draw(st.integers(0, 7))
        return bytes(mutated)
    start = draw(st.integers(0, len(data) - 1))
    run = draw(st.binary(min_size=1, max_size=32))
    mutated[start:start + len(run)] = run
    return bytes(mutated[: len(data)])


# --- the property ------------------------------------------------------------------------------------------------


class _Hang(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Hang()


def check_loads_or_refuses(path: Path, what: str) -> None:
    """Load `path`: a model comes back, or a ValueError that names the place of the fault."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_CASE)
    try:
        model = models.load_model(path)
    except ValueError as error:
        message = str(error)
        prefix = f"Cannot load {str(path)!r}: "
        assert message.startswith(prefix), f"{what}: the error does not name the file: {message}"
        assert PLACE.match(message[len(prefix):]), f"{what}: the error names no place in the file: {message}"
        return
    except _Hang:
        pytest.fail(f"{what}: loading took more than {SECONDS_PER_CASE} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert isinstance(model, models.Model), what


_CASES = itertools.count()


def _run(seeds: dict[str, bytes], folder: Path, seed: str, mutate: Callable, data: Any, suffix: str) -> None:
    mutated = mutate(seeds[seed], data.draw)
    # a new name each time: overwriting a file costs some file systems milliseconds
    path = folder / f"case{next(_CASES)}{suffix}"
    path.write_bytes(mutated)
    try:
        check_loads_or_refuses(path, f"{mutate.__name__} of {seed}")
    finally:
        path.unlink()


KERAS_WRITTEN = ["keras3/mlp.keras", "keras3/lstm.keras", "keras2/mlp.h5"]
KERAS_SEEDS = ["mlp.keras", "functional.keras", "cnn.keras", "keras3/mlp.keras", "keras3/lstm.keras"]
H5_SEEDS = ["mlp.h5", "functional.h5", "keras2/mlp.h5"]


@settings(max_examples=650, **SETTINGS)
@given(data=st.data())
def test_mutated_keras_members(seeds: dict, folder: Path, data: Any) -> None:
    _run(seeds, folder, data.draw(st.sampled_from(KERAS_SEEDS)), mutate_keras, data, ".keras")


@settings(max_examples=600, **SETTINGS)
@given(data=st.data())
def test_mutated_keras_bytes(seeds: dict, folder: Path, data: Any) -> None:
    _run(seeds, folder, data.draw(st.sampled_from(KERAS_SEEDS)), mutate_bytes, data, ".keras")


@settings(max_examples=400, **SETTINGS)
@given(data=st.data())
def test_mutated_legacy_h5_structure(seeds: dict, folder: Path, data: Any) -> None:
    _run(seeds, folder, data.draw(st.sampled_from(H5_SEEDS)), mutate_h5, data, ".h5")


@settings(max_examples=400, **SETTINGS)
@given(data=st.data())
def test_mutated_legacy_h5_bytes(seeds: dict, folder: Path, data: Any) -> None:
    _run(seeds, folder, data.draw(st.sampled_from(H5_SEEDS)), mutate_bytes, data, ".h5")
