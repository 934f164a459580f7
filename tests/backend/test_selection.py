"""Choosing the backend: LAMINA_BACKEND, KERAS_BACKEND, the config file, then torch, with fallbacks.

Each case runs in a fresh interpreter, since the backend is chosen once per process; a missing
library is simulated by a sitecustomize that puts None in sys.modules under its name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lamina import backend
from lamina.layers import Dense
from lamina.models import Sequential

SHOW = "from lamina import backend; s = backend.selection(); print(s.name, s.source, s.reason, sep='|')"


def run_python(code: str, tmp_path: Path, missing: tuple[str, ...] = (), **environment: str):
    """Run `code` in a new interpreter with no backend variables set, a config folder of its own,
    the packages in `missing` impossible to import, and `environment` added."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(f"import sys\nfor name in {missing!r}:\n    sys.modules[name] = None\n")
    env = {k: v for k, v in os.environ.items() if k not in ("LAMINA_BACKEND", "KERAS_BACKEND")}
    env.update(LAMINA_HOME=str(tmp_path), PYTHONPATH=os.pathsep.join([str(site), *sys.path]), **environment)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def selected(tmp_path: Path, missing: tuple[str, ...] = (), **environment: str) -> list[str]:
    result = run_python(SHOW, tmp_path, missing, **environment)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("|")


def test_lamina_backend_then_keras_backend_then_config_file(tmp_path):
    config = tmp_path / "lamina.json"
    config.write_text(json.dumps({"backend": "numpy"}))
    assert selected(tmp_path) == ["numpy", str(config), ""]
    assert selected(tmp_path, KERAS_BACKEND="jax") == ["jax", "KERAS_BACKEND", ""]
    assert selected(tmp_path, KERAS_BACKEND="jax", LAMINA_BACKEND="numpy") == ["numpy", "LAMINA_BACKEND", ""]


def test_torch_is_the_default(tmp_path):
    assert selected(tmp_path) == ["torch", "default", ""]


def test_without_torch_the_default_falls_back_to_jax_then_numpy(tmp_path):
    assert selected(tmp_path, missing=("torch",)) == ["jax", "fallback", "torch is not installed"]
    assert selected(tmp_path, missing=("torch", "jax")) == ["numpy", "fallback", "torch and jax are not installed"]


def test_import_lamina_without_torch_or_jax_predicts_and_says_how_to_train(tmp_path):
    code = """
import numpy as np
import lamina
from lamina.layers import Dense
model = lamina.Sequential([Dense(2, input_shape=(3,))])
print(model.predict(np.ones((4, 3)), verbose=0).shape)
model.compile(optimizer="sgd", loss="mse")
try:
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
except RuntimeError as error:
    print(error)
"""
    result = run_python(code, tmp_path, missing=("torch", "jax"))
    assert result.returncode == 0, result.stderr
    shape, message = result.stdout.strip().splitlines()
    assert shape == "(4, 2)"
    assert "fit needs a training backend" in message
    assert 'pip install "lamina[torch]"' in message and 'pip install "lamina[jax]"' in message


@pytest.mark.parametrize("variable", ["LAMINA_BACKEND", "KERAS_BACKEND"])
def test_a_chosen_backend_that_is_missing_names_its_extra(tmp_path, variable):
    result = run_python(SHOW, tmp_path, missing=("jax",), **{variable: "jax"})
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    assert message == (f"ImportError: The jax backend is not installed (chosen by {variable}=jax). "
                       'Install it with: pip install "lamina[jax]"')


def test_a_missing_backend_chosen_in_the_config_file_names_the_file(tmp_path):
    config = tmp_path / "lamina.json"
    config.write_text(json.dumps({"backend": "jax"}))
    result = run_python(SHOW, tmp_path, missing=("jax",))
    assert result.returncode == 1
    assert f"(chosen by the config file {config})" in result.stderr
    assert 'pip install "lamina[jax]"' in result.stderr


def test_a_chosen_backend_never_falls_back(tmp_path):
    result = run_python(SHOW, tmp_path, missing=("torch",), LAMINA_BACKEND="torch")
    assert result.returncode == 1
    assert 'pip install "lamina[torch]"' in result.stderr


def test_keras_backend_tensorflow_is_refused_unless_lamina_backend_is_set(tmp_path):
    result = run_python(SHOW, tmp_path, KERAS_BACKEND="tensorflow")
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("ValueError: KERAS_BACKEND='tensorflow' is not a backend Lamina supports")
    assert "torch, jax, numpy" in message and "LAMINA_BACKEND" in message
    assert selected(tmp_path, KERAS_BACKEND="tensorflow", LAMINA_BACKEND="numpy")[0] == "numpy"


def test_unknown_name_in_the_config_file_is_refused(tmp_path):
    (tmp_path / "lamina.json").write_text(json.dumps({"backend": "theano"}))
    result = run_python(SHOW, tmp_path)
    assert result.returncode == 1
    assert "asks for backend 'theano': expected one of torch, jax, numpy" in result.stderr


def test_importing_lamina_imports_no_backend_until_one_is_used(tmp_path):
    code = "import sys, lamina; print(sorted({'torch', 'jax'} & set(sys.modules)))"
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_use_restores_the_backend_and_what_chose_it():
    before = backend.selection()
    with backend.use("numpy") as numpy_backend:
        assert backend.selection() == backend.Selection("numpy", "set_backend")
        model = Sequential([Dense(2, input_shape=(3,))])
        assert isinstance(model(np.ones((1, 3), dtype="float32")), np.ndarray)
        assert numpy_backend.NAME == "numpy"
    assert backend.selection() == before
    assert backend.impl.NAME == before.name

