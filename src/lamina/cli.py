"""The `lamina` command: `demo` trains a real model end to end, `info` shows the set-up, `bench` runs benchmarks/."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path

from lamina import backend

EPILOG = f"""\
backends: torch (the default) or jax to train, numpy for inference only.
Install one with {backend.INSTALL_HINT}.
Choose it with --backend, the LAMINA_BACKEND (or KERAS_BACKEND) environment variable,
or {{"backend": "jax"}} in ~/.lamina/lamina.json; `lamina info` shows which is active and why."""
DEMO_ACCURACY = 0.95
DEMO_DATASETS = ("digits", "mnist")
DEMO_EPOCHS = {"digits": 30, "mnist": 5}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lamina", description=__doc__, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    backend_help = "the backend to use, instead of LAMINA_BACKEND, KERAS_BACKEND or the config file"
    parser.add_argument("--backend", choices=backend.BACKENDS, default=None, help=backend_help)
    # Also accepted after the command (`lamina demo --backend jax`); SUPPRESS keeps a value given before it.
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("--backend", choices=backend.BACKENDS, default=argparse.SUPPRESS, help=backend_help)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", parents=[after], help="train, evaluate, save and reload a digits classifier")
    demo.add_argument("--epochs", type=int, default=None, help="training epochs (default: 30 on digits, 5 on mnist)")
    demo.add_argument("--dataset", choices=DEMO_DATASETS, default="digits",
                      help="the bundled 8x8 digits (no download), or MNIST when mnist.npz is in Keras's cache folder")
    demo.add_argument("--output", default="model.keras", help="where to save the trained model")
    commands.add_parser("info", parents=[after], help="show the backend, what chose it, its device and versions")
    bench = commands.add_parser("bench", help="run benchmarks/run.py from a Lamina checkout")
    bench.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def demo_failures(accuracy: float, same_predictions: bool, output: str) -> list[str]:
    """One message per failed check of the demo (none when it passed)."""
    failures = []
    if accuracy < DEMO_ACCURACY:
        failures.append(f"demo FAILED: test accuracy {accuracy:.4f} is below {DEMO_ACCURACY} "
                        "(more epochs may help: --epochs)")
    if not same_predictions:
        failures.append(f"demo FAILED: the model reloaded from {output} predicts differently from the trained one")
    return failures


def _mnist_demo_data() -> tuple | None:
    """MNIST flattened to (n, 784) float32 in [0, 1] when mnist.npz is in the cache (no download); else None."""
    import numpy as np

    from lamina.datasets import mnist
    from lamina.utils.file_utils import keras_home

    path = Path(keras_home(), "datasets", mnist.FILE_NAME)
    if not path.is_file():
        print(f"lamina: error: --dataset mnist needs {path}, which is not there. Download it once with\n"
              "  python -c \"from lamina.datasets import mnist; mnist.load_data()\"\n"
              f"or put the file from {mnist.ORIGIN_FOLDER}{mnist.FILE_NAME} there by hand "
              "(KERAS_HOME sets the folder); `lamina demo` alone uses the bundled digits.", file=sys.stderr)
        return None
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    flat = [(x.reshape(len(x), -1) / np.float32(255.0)).astype(np.float32) for x in (x_train, x_test)]
    return (flat[0], y_train.astype(np.int64)), (flat[1], y_test.astype(np.int64))


def demo(epochs: int | None, output: str, dataset: str = "digits") -> int:
    """The classic MLP on the 8x8 digits (or MNIST): fit, evaluate, save, reload, compare predictions."""
    import numpy as np

    import lamina
    from lamina.datasets import digits
    from lamina.layers import Dense
    from lamina.models import Sequential, load_model

    try:
        backend.require_training("lamina demo")
    except RuntimeError as error:
        print(f"lamina: error: {error}", file=sys.stderr)
        return 2
    lamina.set_random_seed(0)
    epochs = DEMO_EPOCHS[dataset] if epochs is None else epochs
    if dataset == "mnist":
        loaded = _mnist_demo_data()
        if loaded is None:
            return 2
        (x_train, y_train), (x_test, y_test) = loaded
        size = "28x28"
    else:
        (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.2)
        size = "8x8"
    print(f"Lamina {lamina.__version__} on {backend.backend()} ({backend.impl.device_name()}); "
          f"{dataset}: {len(x_train)} training and {len(x_test)} test images of {size} pixels")
    model = Sequential()
    model.add(Dense(64, activation="relu", input_shape=(x_train.shape[1],)))
    model.add(Dense(64, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.1)
    loss, accuracy = model.evaluate(x_test, y_test)
    print(f"test loss {loss:.4f}, test accuracy {accuracy:.4f}")
    model.save(output)
    reloaded = load_model(output)
    same = np.array_equal(model.predict(x_test, verbose=0), reloaded.predict(x_test, verbose=0))
    print(f"saved to {output}; reloaded predictions identical: {same}")
    failures = demo_failures(accuracy, same, output)
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


def _describe(selection: backend.Selection, from_flag: bool) -> str:
    """Where the active backend's choice came from, in words."""
    if from_flag:
        return "chosen with --backend"
    if selection.source == "default":
        return "the default"
    if selection.source == "fallback":
        inference = "; it runs inference only" if selection.name not in backend.TRAINING_BACKENDS else ""
        return f"fallback: {selection.reason}{inference}"
    if selection.source == "set_backend":
        return "chosen with lamina.backend.set_backend"
    return f"chosen by {selection.source}"


def _package_version(name: str) -> str | None:
    """The installed version of `name`, without importing it; None when it is not installed."""
    if importlib.util.find_spec(name) is None:
        return None
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


def info(from_flag: bool = False) -> int:
    """Print Lamina's version, the active backend with what chose it, and the array libraries installed."""
    import lamina

    print(f"lamina {lamina.__version__}")
    status = 0
    try:
        selection = backend.selection()
        print(f"backend: {selection.name} on {backend.impl.device_name()} ({_describe(selection, from_flag)})")
    except (ImportError, ValueError) as error:
        print(f"lamina: error: {error}", file=sys.stderr)
        print("backend: none")
        status = 2
    versions = {name: _package_version(name) for name in ("numpy", "torch", "jax")}
    for name, version in versions.items():
        print(f"{name} {version}" if version else f"{name}: not installed")
    if not any(versions[name] for name in backend.TRAINING_BACKENDS):
        print(f"To train models, install a backend: {backend.INSTALL_HINT}")
    return status


def bench(args: list[str]) -> int:
    """Run benchmarks/run.py of the Lamina checkout in the current directory."""
    script = Path.cwd() / "benchmarks" / "run.py"
    if not script.is_file():
        print("lamina bench runs benchmarks/run.py: call it from the root of a Lamina checkout "
              "(or run `make bench` there).", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, str(script), *args])


def main(argv: list[str] | None = None) -> int:
    """Run the `lamina` command; returns its exit status (2 when the set-up is wrong)."""
    arguments = _parser().parse_args(argv)
    chosen = getattr(arguments, "backend", None)
    if chosen:
        try:
            backend.set_backend(chosen)
        except ImportError as error:
            print(f"lamina: error: --backend {chosen}: {error}", file=sys.stderr)
            return 2
    if arguments.command == "demo":
        try:
            backend.selection()
        except (ImportError, ValueError) as error:
            print(f"lamina: error: {error}", file=sys.stderr)
            return 2
        return demo(arguments.epochs, arguments.output, arguments.dataset)
    if arguments.command == "info":
        return info(from_flag=bool(chosen))
    return bench(arguments.args)


if __name__ == "__main__":
    sys.exit(main())
