"""The `lamina` command: `demo` trains a real model end to end, `info` shows the set-up, `bench` runs benchmarks/."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lamina", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train, evaluate, save and reload a digits classifier")
    demo.add_argument("--backend", choices=("torch", "jax"), default=None, help="training backend (default: torch)")
    demo.add_argument("--epochs", type=int, default=30)
    demo.add_argument("--output", default="model.keras", help="where to save the trained model")
    commands.add_parser("info", help="show the backend, its device and versions")
    bench = commands.add_parser("bench", help="run benchmarks/run.py from a Lamina checkout")
    bench.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def demo(epochs: int, output: str) -> int:
    """The classic MLP on the 8x8 digits: fit, evaluate, save, reload, compare predictions."""
    import numpy as np

    import lamina
    from lamina.datasets import digits
    from lamina.layers import Dense
    from lamina.models import Sequential, load_model

    lamina.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.2)
    print(f"Lamina {lamina.__version__} on {lamina.backend.backend()} ({lamina.backend.impl.device_name()}); "
          f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels")
    model = Sequential()
    model.add(Dense(64, activation="relu", input_shape=(64,)))
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
    if accuracy < 0.95 or not same:
        print("demo FAILED: expected test accuracy >= 0.95 and identical predictions after reload", file=sys.stderr)
        return 1
    return 0


def info() -> int:
    import numpy as np

    import lamina

    print(f"lamina {lamina.__version__}")
    print(f"backend: {lamina.backend.backend()} on {lamina.backend.impl.device_name()}")
    print(f"numpy {np.__version__}")
    for name in ("torch", "jax"):
        try:
            module = __import__(name)
            print(f"{name} {module.__version__}")
        except ImportError:
            print(f"{name}: not installed")
    return 0


def bench(args: list[str]) -> int:
    script = Path.cwd() / "benchmarks" / "run.py"
    if not script.is_file():
        print("lamina bench runs benchmarks/run.py: call it from the root of a Lamina checkout "
              "(or run `make bench` there).", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, str(script), *args])


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if getattr(arguments, "backend", None):
        from lamina import backend

        backend.set_backend(arguments.backend)
    if arguments.command == "demo":
        return demo(arguments.epochs, arguments.output)
    if arguments.command == "info":
        return info()
    return bench(arguments.args)


if __name__ == "__main__":
    sys.exit(main())
