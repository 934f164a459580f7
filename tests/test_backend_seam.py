"""The backend seam: only lamina/backend imports torch or jax; the backend is chosen as documented."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina import backend
from lamina.layers import Conv2D, Dense, Embedding, Flatten, LSTM, MaxPooling2D, SimpleRNN
from lamina.models import Sequential

SOURCE = Path(lamina.__file__).resolve().parent
ARRAY_LIBRARIES = {"torch", "jax", "jaxlib"}


@dataclass(frozen=True)
class Import:
    """One module a source file imports: by an import statement, or by name through a function call."""

    line: int
    module: str  # absolute and dotted; for a name computed at run time, its literal prefix (maybe "")
    computed: bool = False

    def __str__(self) -> str:
        return f"{self.module}<computed name>" if self.computed else self.module


def _module_name(path: Path) -> str:
    parts = ("lamina",) + path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, path: Path) -> str:
    """The module of `from ... import`, with a relative one resolved against the file's package."""
    if node.level == 0:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _called_import(node: ast.Call) -> Import | None:
    """`__import__(name)` or `importlib.import_module(name)`, as an Import; None for any other call."""
    function = node.func
    called = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
    if called not in ("__import__", "import_module") or not node.args:
        return None
    name = node.args[0]
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return Import(node.lineno, name.value)
    prefix = ""
    if isinstance(name, ast.JoinedStr) and name.values and isinstance(name.values[0], ast.Constant):
        prefix = name.values[0].value
    return Import(node.lineno, prefix, computed=True)


def imports_of(path: Path) -> list[Import]:
    """Every module that the file imports anywhere in it (top level, inside functions, by name)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # `from lamina import layers` imports lamina.layers: the imported names may be modules
            module = _absolute(node, path)
            found += [Import(node.lineno, module if alias.name == "*" else f"{module}.{alias.name}")
                      for alias in node.names]
        elif isinstance(node, ast.Call) and (called := _called_import(node)) is not None:
            found.append(called)
    return sorted(found, key=lambda entry: entry.line)


def _in_backend(path: Path) -> bool:
    return path.relative_to(SOURCE).parts[0] == "backend"


def _imports_array_library(entry: Import) -> bool:
    if entry.computed:  # a name chosen at run time could be torch's, unless its fixed prefix says otherwise
        return not entry.module.startswith("lamina.")
    return entry.module.split(".")[0] in ARRAY_LIBRARIES


def _reaches_above_backend(entry: Import) -> bool:
    """A Lamina module outside lamina.backend (or a computed name that may be one)."""
    if entry.computed:
        return not entry.module.startswith("lamina.backend.")
    name = entry.module
    return (name == "lamina" or name.startswith("lamina.")) and not (
        name == "lamina.backend" or name.startswith("lamina.backend."))


def torch_or_jax_imports_outside_backend(root: Path) -> list[str]:
    return [f"{path.relative_to(root)}:{entry.line} imports {entry}"
            for path in sorted(root.rglob("*.py")) if not _in_backend(path)
            for entry in imports_of(path) if _imports_array_library(entry)]


def upward_imports_inside_backend(root: Path) -> list[str]:
    return [f"{path.relative_to(root)}:{entry.line} imports {entry}"
            for path in sorted(root.rglob("*.py")) if _in_backend(path)
            for entry in imports_of(path) if _reaches_above_backend(entry)]


def test_only_the_backend_package_imports_torch_or_jax():
    assert torch_or_jax_imports_outside_backend(SOURCE) == []


def test_backend_modules_import_nothing_above_the_backend_package():
    """What a step needs from a layer, a model or a utility is passed to the backend, never imported by it."""
    assert upward_imports_inside_backend(SOURCE) == []


def test_the_numpy_backend_runs_without_torch_or_jax():
    paths = [SOURCE / "backend" / "common.py", SOURCE / "backend" / "__init__.py",
             *sorted((SOURCE / "backend" / "numpy").glob("*.py"))]
    offenders = [f"{path.name}:{entry.line} imports {entry}" for path in paths
                 for entry in imports_of(path) if _imports_array_library(entry)]
    assert offenders == []


def test_the_seam_checks_catch_every_kind_of_import(tmp_path, monkeypatch):
    """The scanners above are only worth something if they see each way of importing."""
    monkeypatch.setattr(sys.modules[__name__], "SOURCE", tmp_path)
    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "sneaky.py").write_text(
        "import importlib\n"
        "from importlib import import_module\n"
        "def f(name):\n"
        "    import torch.nn\n"
        "    __import__('jax')\n"
        "    importlib.import_module('jax.numpy')\n"
        "    import_module(name)\n"
        "    import_module(f'lamina.layers.{name}')\n"
        "from jaxlib import xla_client\n")
    (tmp_path / "backend" / "jax").mkdir(parents=True)
    (tmp_path / "backend" / "jax" / "random.py").write_text(
        "import numpy, torch\n"
        "from lamina.backend.common import normalize_axis\n"
        "from lamina.backend import common\n"
        "from lamina import backend\n"
        "from ...utils import seeding\n"
        "from lamina import layers\n"
        "def f(name):\n"
        "    import lamina.trainers.step\n"
        "    import importlib\n"
        "    importlib.import_module(f'lamina.backend.{name}')\n"
        "    importlib.import_module(f'lamina.{name}')\n")
    assert torch_or_jax_imports_outside_backend(tmp_path) == [
        "layers/sneaky.py:4 imports torch.nn", "layers/sneaky.py:5 imports jax",
        "layers/sneaky.py:6 imports jax.numpy", "layers/sneaky.py:7 imports <computed name>",
        "layers/sneaky.py:9 imports jaxlib.xla_client"]
    assert upward_imports_inside_backend(tmp_path) == [
        "backend/jax/random.py:5 imports lamina.utils.seeding",
        "backend/jax/random.py:6 imports lamina.layers", "backend/jax/random.py:8 imports lamina.trainers.step",
        "backend/jax/random.py:11 imports lamina.<computed name>"]


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="Unknown backend 'tensorflow'"):
        backend.set_backend("tensorflow")


def test_numpy_backend_cannot_train():
    with backend.use("numpy"):
        model = Sequential([Dense(2, input_shape=(3,))])
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(RuntimeError, match="training backend"):
            model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)


def tutorial_models() -> dict:
    return {
        "mlp": (lambda: Sequential([Dense(16, activation="relu", input_shape=(10,)), Dense(3, activation="softmax")]),
                np.random.default_rng(0).normal(size=(7, 10)).astype("float32")),
        "cnn": (lambda: Sequential([Conv2D(4, (3, 3), activation="relu", input_shape=(12, 12, 3)),
                                    MaxPooling2D((2, 2)), Flatten(), Dense(5, activation="softmax")]),
                np.random.default_rng(1).random((3, 12, 12, 3)).astype("float32")),
        "lstm": (lambda: Sequential([Embedding(50, 8, input_shape=(9,)), LSTM(6), Dense(1, activation="sigmoid")]),
                 np.random.default_rng(2).integers(0, 50, (4, 9))),
        "rnn": (lambda: Sequential([Embedding(50, 8, input_shape=(9,)), SimpleRNN(6), Dense(1, activation="sigmoid")]),
                np.random.default_rng(3).integers(0, 50, (4, 9))),
    }


@pytest.mark.parametrize("name", ["mlp", "cnn", "lstm", "rnn"])
def test_same_weights_give_the_same_predictions_on_every_backend(name):
    build, x = tutorial_models()[name]
    with backend.use("torch"):
        weights = build().get_weights()
    outputs = {}
    for backend_name in ("torch", "jax", "numpy"):
        with backend.use(backend_name):
            model = build()
            model.set_weights(weights)
            outputs[backend_name] = model.predict(x, verbose=0)
    np.testing.assert_allclose(outputs["jax"], outputs["torch"], atol=1e-5)
    np.testing.assert_allclose(outputs["numpy"], outputs["torch"], atol=1e-5)
