"""The backend seam: only lamina/backend imports torch or jax; the backend is chosen as documented."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina import backend
from lamina.layers import Conv2D, Dense, Embedding, Flatten, LSTM, MaxPooling2D, SimpleRNN
from lamina.models import Sequential

SOURCE = Path(lamina.__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_backend_package_imports_torch_or_jax():
    offenders = [str(path.relative_to(SOURCE)) for path in SOURCE.rglob("*.py")
                 if "backend" not in path.relative_to(SOURCE).parts[:1]
                 and imported_modules(path) & {"torch", "jax", "jaxlib"}]
    assert offenders == []


def selected_backend(env: dict) -> str:
    code = "import lamina; print(lamina.backend.backend())"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_backend_from_environment_then_config_file_then_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LAMINA_BACKEND"}
    env["LAMINA_HOME"] = str(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    assert selected_backend(env) == "torch"
    (tmp_path / "lamina.json").write_text(json.dumps({"backend": "numpy"}))
    assert selected_backend(env) == "numpy"
    assert selected_backend({**env, "LAMINA_BACKEND": "jax"}) == "jax"


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
