"""Save and load times of a ~10M-parameter model, Lamina against Keras 3, on the torch backend.

The model: Input(1024) -> Dense(2048, relu) -> Dense(2048, relu) -> Dense(2048, relu) -> Dense(10, softmax)
(10.5M parameters), compiled with Adam and trained one batch, so that the file holds the optimizer's state
as well (about 126 MB). Each framework runs in its own interpreter: Lamina in this one's environment, Keras
in the benchmark environment (`.venv-bench`, or --keras-python), so that neither imports the other. Each
times `model.save("m.keras")` and `load_model("m.keras")` --repeat times and keeps the fastest; the ratios
are Lamina's time over Keras's (below 1.0: Lamina is faster).

    python benchmarks/saving.py                    # both, printed as ratios
    python benchmarks/saving.py --repeat 7 --json saving.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WIDTH, DEPTH, INPUTS, CLASSES = 2048, 3, 1024, 10


def _library(framework: str) -> Any:
    if framework == "keras":
        os.environ["KERAS_BACKEND"] = "torch"
        import keras

        return keras
    os.environ["LAMINA_BACKEND"] = "torch"
    try:
        import lamina
    except ImportError:  # not installed: the checkout's sources
        sys.path.insert(0, str(ROOT / "src"))
        import lamina
    return lamina


def _model(lib: Any) -> Any:
    layers = lib.layers
    stack = [layers.Input((INPUTS,))] + [layers.Dense(WIDTH, activation="relu") for _ in range(DEPTH)]
    model = lib.Sequential(stack + [layers.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def measure(framework: str, repeat: int, folder: str) -> dict[str, Any]:
    """Seconds of each save and load of one framework (run in the child interpreter)."""
    import numpy as np

    lib = _library(framework)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, INPUTS)).astype("float32")
    y = rng.integers(0, CLASSES, 32)
    model = _model(lib)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # one step: the optimizer's state exists
    path = os.path.join(folder, f"{framework}.keras")
    saves, loads = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        model.save(path)
        saves.append(time.perf_counter() - started)
    for _ in range(repeat):
        started = time.perf_counter()
        loaded = lib.models.load_model(path)
        loads.append(time.perf_counter() - started)
    same = np.allclose(np.asarray(loaded.predict(x, verbose=0)), np.asarray(model.predict(x, verbose=0)), atol=1e-6)
    return {"framework": framework, "save_s": saves, "load_s": loads, "file_bytes": os.path.getsize(path),
            "parameters": int(model.count_params()), "same_predictions": bool(same)}


def _run_child(python: str, framework: str, repeat: int, folder: str, timeout: float) -> dict[str, Any]:
    command = [python, __file__, "--child", framework, "--repeat", str(repeat), "--folder", folder]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"the {framework} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _default_keras_python() -> str:
    bench = ROOT / ".venv-bench" / "bin" / "python"
    return str(bench) if bench.exists() else sys.executable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="saves and loads per framework (the best is kept)")
    parser.add_argument("--keras-python", default=_default_keras_python(), help="an interpreter with Keras 3")
    parser.add_argument("--lamina-python", default=sys.executable, help="an interpreter with Lamina and torch")
    parser.add_argument("--json", help="write every timing to this file")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per framework")
    parser.add_argument("--child", choices=["lamina", "keras"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.repeat, args.folder)))
        return
    with tempfile.TemporaryDirectory() as folder:
        results = {name: _run_child(python, name, args.repeat, folder, args.timeout)
                   for name, python in (("lamina", args.lamina_python), ("keras", args.keras_python))}
    lamina, keras = results["lamina"], results["keras"]
    print(f"model: {lamina['parameters']:,} parameters, file {lamina['file_bytes'] / 1e6:.1f} MB (Lamina), "
          f"{keras['file_bytes'] / 1e6:.1f} MB (Keras); best of {args.repeat}, torch backend")
    print(f"{'':6} {'Lamina':>9} {'Keras':>9} {'ratio':>7}")
    for what in ("save", "load"):
        ours, theirs = min(lamina[f"{what}_s"]), min(keras[f"{what}_s"])
        print(f"{what:6} {ours:8.3f}s {theirs:8.3f}s {ours / theirs:6.2f}x")
    if not (lamina["same_predictions"] and keras["same_predictions"]):
        print("WARNING: a loaded model did not predict as the saved one did")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
