"""A .keras file saved on torch loads and predicts on the numpy backend in a process where torch and jax
cannot be imported: deployment needs only NumPy and h5py."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
from lamina import backend, layers, models

SCRIPT = textwrap.dedent("""
    import importlib.abc, os, sys

    class Hidden(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("torch", "jax", "jaxlib", "keras", "tensorflow"):
                raise ImportError(f"{name} is not installed here")
            return None

    sys.meta_path.insert(0, Hidden())
    os.environ["LAMINA_BACKEND"] = "numpy"
    import numpy as np
    import lamina

    folder = sys.argv[1]
    for name in sorted(os.listdir(folder)):
        if name.endswith(".keras"):
            model = lamina.models.load_model(os.path.join(folder, name))
            data = np.load(os.path.join(folder, name[:-len(".keras")] + ".x.npz"))
            x = [data[key] for key in sorted(data.files)]
            x = x[0] if len(x) == 1 else x
            np.save(os.path.join(folder, name[:-len(".keras")] + ".out.npy"), np.asarray(model.predict(x, verbose=0)))
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "jax", "jaxlib"))
    assert not loaded, loaded
    print("backend", lamina.backend.backend())
""")


def mlp() -> tuple[models.Model, np.ndarray]:
    model = models.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"), layers.Dropout(0.2),
                               layers.Dense(3, activation="softmax")])
    return model, np.random.default_rng(0).normal(size=(4, 6)).astype("float32")


def cnn() -> tuple[models.Model, np.ndarray]:
    model = models.Sequential([layers.Input((8, 8, 2)), layers.Conv2D(4, 3, activation="relu"),
                               layers.BatchNormalization(), layers.MaxPooling2D(), layers.Flatten(),
                               layers.Dense(2)])
    return model, np.random.default_rng(1).normal(size=(3, 8, 8, 2)).astype("float32")


def two_inputs() -> tuple[models.Model, list[np.ndarray]]:
    left, right = layers.Input((5,), name="left"), layers.Input((3,), name="right")
    merged = layers.Concatenate()([layers.Dense(4, activation="tanh")(left), right])
    model = models.Model([left, right], layers.Dense(1)(merged))
    rng = np.random.default_rng(2)
    return model, [rng.normal(size=(4, 5)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")]


def lstm() -> tuple[models.Model, np.ndarray]:
    model = models.Sequential([layers.Input((5, 3)), layers.LSTM(4), layers.Dense(2)])
    return model, np.random.default_rng(3).normal(size=(2, 5, 3)).astype("float32")


def test_files_saved_on_torch_predict_without_torch_or_jax(tmp_path):
    expected = {}
    with backend.use("torch"):
        for make in (mlp, cnn, lstm, two_inputs):
            model, x = make()
            if any(isinstance(layer, layers.BatchNormalization) for layer in model.layers):
                model.compile(optimizer="sgd", loss="mse")
                model.fit(x, np.zeros((len(x), 2), "float32"), epochs=1, verbose=0)  # moving statistics move
            expected[make.__name__] = np.asarray(model.predict(x, verbose=0))
            model.save(tmp_path / f"{make.__name__}.keras")
            np.savez(tmp_path / f"{make.__name__}.x.npz", *(x if isinstance(x, list) else [x]))
    environment = {key: value for key, value in os.environ.items() if key != "LAMINA_BACKEND"}
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                            timeout=120, env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "backend numpy" in result.stdout
    for name, predictions in expected.items():
        np.testing.assert_allclose(np.load(tmp_path / f"{name}.out.npy"), predictions, rtol=1e-6, atol=1e-6,
                                   err_msg=name)
