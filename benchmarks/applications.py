"""ResNet50 side by side: inference and training throughput on synthetic 224x224 images, printed as ratios.

    python benchmarks/applications.py [--images 256] [--batch-size 32] [--runs torchvision,lamina-torch,...]
                                      [--json results.json]

Runs (each in its own subprocess, so that each imports its own backend):
  torchvision   torchvision's resnet50 in a hand-written loop (NCHW, eval + inference_mode; train: fused Adam)
  torchvision-channels-last   the same loop with model and images in channels_last memory format, which
                torch's CPU tuning guide recommends for convolutions
  lamina-torch  lamina.applications.ResNet50 on torch: model.predict, model.fit
  keras-torch   keras.applications.ResNet50 on torch: the same calls
  lamina-jax    Lamina on jax
  keras-jax     Keras 3 on jax

Every run sees the same images (uniform noise) and labels (1000 classes), Adam at Keras's defaults, sparse
categorical cross-entropy, `weights=None`. Inference: `predict(x, batch_size)` over all images, after one
warm-up batch. Training: one epoch of `fit` over all images, after a one-step warm-up fit (which pays for
compiling on jax). Ratios: Lamina on torch against the faster torchvision loop (goal >= 0.9) and against Keras on torch,
Lamina on jax against Keras on jax. Keras and torchvision belong in the benchmark environment only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
MARKER = "APPLICATIONS_RESULT "
RUNS = {"torchvision": None, "torchvision-channels-last": None, "lamina-torch": ("LAMINA_BACKEND", "torch"), "keras-torch": ("KERAS_BACKEND", "torch"),
        "lamina-jax": ("LAMINA_BACKEND", "jax"), "keras-jax": ("KERAS_BACKEND", "jax")}
BEST_HAND_LOOP = "best hand loop"  # the faster torchvision run, per measurement
RATIOS = (("lamina-torch", BEST_HAND_LOOP), ("keras-torch", BEST_HAND_LOOP), ("lamina-torch", "keras-torch"),
          ("lamina-jax", "keras-jax"))
ADAM = {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}  # Keras's defaults


def data(images: int, seed: int = 1234) -> tuple[np.ndarray, np.ndarray]:
    """`images` NHWC float32 images of 224x224x3 and their integer labels."""
    rng = np.random.default_rng(seed)
    return rng.random((images, 224, 224, 3), dtype=np.float32), rng.integers(0, 1000, images).astype("int64")


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_keras_api(module: Any, images: int, batch_size: int) -> dict[str, float]:
    """predict and fit of ResNet50 through a Keras-API module (lamina or keras)."""
    x, y = data(images)
    model = module.applications.ResNet50(weights=None)
    model.compile(optimizer=module.optimizers.Adam(**ADAM), loss="sparse_categorical_crossentropy")
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)
    inference = timed(lambda: model.predict(x, batch_size=batch_size, verbose=0))
    model.fit(x[:batch_size], y[:batch_size], batch_size=batch_size, epochs=1, verbose=0)
    training = timed(lambda: model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0))
    return {"inference_images_per_s": images / inference, "train_images_per_s": images / training}


def import_torchvision_resnet50() -> Callable[..., Any]:
    """torchvision's resnet50 builder. A CUDA build of torchvision beside a CPU build of torch cannot load its
    compiled operators, which resnet50 does not use: then the models package is imported without them."""
    try:
        from torchvision.models import resnet50
    except (ImportError, OSError, RuntimeError):
        import importlib.util
        import types

        root = importlib.util.find_spec("torchvision").submodule_search_locations[0]
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        for name, path in (("torchvision", root), ("torchvision.models", os.path.join(root, "models"))):
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package
        from torchvision.models.resnet import resnet50
    return resnet50


def measure_torchvision(images: int, batch_size: int, channels_last: bool) -> dict[str, float]:
    """The hand-written loop: what a PyTorch user writes around torchvision's resnet50."""
    import torch

    resnet50 = import_torchvision_resnet50()
    x, y = data(images)
    x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))  # NCHW, torchvision's layout
    y = torch.from_numpy(y)
    model = resnet50()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    batches = [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, images, batch_size)]

    def predict() -> None:
        with torch.inference_mode():
            for inputs, _ in batches:
                model(inputs)

    model.eval()
    with torch.inference_mode():
        model(batches[0][0])
    inference = timed(predict)

    optimizer = torch.optim.Adam(model.parameters(), lr=ADAM["learning_rate"],
                                 betas=(ADAM["beta_1"], ADAM["beta_2"]), eps=ADAM["epsilon"], fused=True)
    loss_fn = torch.nn.CrossEntropyLoss()

    def train(steps: list) -> None:
        for inputs, labels in steps:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs), labels)
            loss.backward()
            optimizer.step()
        loss.item()  # wait for the last step, as fit does at the end of its epoch

    model.train()
    train(batches[:1])
    training = timed(lambda: train(batches))
    return {"inference_images_per_s": images / inference, "train_images_per_s": images / training}


def worker(run: str, images: int, batch_size: int) -> None:
    if run.startswith("torchvision"):
        result = measure_torchvision(images, batch_size, channels_last=run.endswith("channels-last"))
    elif run.startswith("lamina"):
        sys.path.insert(0, str(HERE.parent / "src"))  # when lamina is not installed
        import lamina

        result = measure_keras_api(lamina, images, batch_size)
    else:
        import keras

        result = measure_keras_api(keras, images, batch_size)
    print(MARKER + json.dumps({"run": run, **result}), flush=True)


def launch(run: str, images: int, batch_size: int, timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    if RUNS[run] is not None:
        variable, backend = RUNS[run]
        env[variable] = backend
    command = [sys.executable, __file__, "--worker", run, "--images", str(images), "--batch-size", str(batch_size)]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"run": run, "error": f"timed out after {timeout:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        return {"run": run, "error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1][len(MARKER):])


def report(results: dict[str, dict[str, Any]], images: int, batch_size: int) -> None:
    print(f"\nResNet50, 224x224, batch {batch_size}, {images} synthetic images, {os.cpu_count()} CPU cores")
    print(f"{'run':<27}{'inference img/s':>17}{'training img/s':>16}")
    for run, result in results.items():
        if "error" in result:
            print(f"{run:<27}  failed: {result['error']}")
        else:
            print(f"{run:<27}{result['inference_images_per_s']:>17.1f}{result['train_images_per_s']:>16.1f}")
    hand_loops = [r for name, r in results.items() if name.startswith("torchvision") and "error" not in r]
    if hand_loops:
        results = {**results, BEST_HAND_LOOP: {key: max(r[key] for r in hand_loops)
                                               for key in ("inference_images_per_s", "train_images_per_s")}}
    print(f"\n{'ratio':<36}{'inference':>10}{'training':>10}")
    for numerator, denominator in RATIOS:
        a, b = results.get(numerator, {}), results.get(denominator, {})
        if "inference_images_per_s" in a and "inference_images_per_s" in b:
            print(f"{numerator + ' / ' + denominator:<36}"
                  f"{a['inference_images_per_s'] / b['inference_images_per_s']:>9.2f}x"
                  f"{a['train_images_per_s'] / b['train_images_per_s']:>9.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256, help="synthetic images per pass (default 256)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma list of {', '.join(RUNS)}")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per run")
    parser.add_argument("--worker", choices=list(RUNS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.images < args.batch_size or args.images % args.batch_size:
        parser.error(f"--images must be a multiple of --batch-size ({args.batch_size}), got {args.images}")
    if args.worker:
        worker(args.worker, args.images, args.batch_size)
        return
    runs = [run.strip() for run in args.runs.split(",") if run.strip()]
    unknown = [run for run in runs if run not in RUNS]
    if unknown:
        parser.error(f"--runs: unknown {unknown}; choose from {list(RUNS)}")
    results = {}
    for run in runs:
        print(f"running {run} ...", flush=True)
        results[run] = launch(run, args.images, args.batch_size, args.timeout)
    report(results, args.images, args.batch_size)
    if args.json:
        args.json.write_text(json.dumps({"images": args.images, "batch_size": args.batch_size,
                                         "results": results}, indent=2))


if __name__ == "__main__":
    main()
