"""Workload sizes, synthetic data and the timing protocol shared by every benchmark runner.

Every runner (hand-written torch, hand-written jax, Keras 3, Lamina) imports this
module, so all of them train on byte-identical data with the same batch sizes and
report results in the same shape. Nothing here imports torch, jax, keras or lamina.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

SEED = 1234
RESULT_MARKER = "BENCH_RESULT "  # prefix of the JSON line a runner prints; the driver keeps the last one

TRAIN_WORKLOADS = ("W1", "W2", "W3", "W5", "W6")

# The optimizer every runner trains with (--optimizer), with the same hyperparameters everywhere: Keras's
# defaults for Adam and AdamW (AdamW's weight decay 0.004), and SGD at 0.01 with momentum 0.9.
OPTIMIZER_SETTINGS: dict[str, dict[str, float]] = {
    "adam": {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "adamw": {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "weight_decay": 0.004},
    "sgd_momentum": {"learning_rate": 0.01, "momentum": 0.9},
}
OPTIMIZERS = tuple(OPTIMIZER_SETTINGS)
OPTIMIZER_NAMES = {"adam": "Adam", "adamw": "AdamW", "sgd_momentum": "SGD(momentum=0.9)"}


def keras_optimizer(optimizers_module: Any, name: str) -> Any:
    """The optimizer `name` from a Keras-API module (keras.optimizers or lamina.optimizers)."""
    settings = OPTIMIZER_SETTINGS[name]
    cls = {"adam": "Adam", "adamw": "AdamW", "sgd_momentum": "SGD"}[name]
    return getattr(optimizers_module, cls)(**settings)
ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6")


@dataclass(frozen=True)
class TrainSpec:
    """One training workload: its size, batch size and the data it trains on."""

    name: str
    title: str
    samples: int
    quick_samples: int
    batch_size: int


TRAIN_SPECS = {
    "W1": TrainSpec("W1", "MLP 784-256-128-10, Adam, sparse CE", 60_000, 12_800, 128),
    "W2": TrainSpec("W2", "CNN conv32-pool-conv64-pool-128-10, Adam, CE", 5_000, 1_024, 32),
    "W3": TrainSpec("W3", "Embedding(10000,64)-LSTM(64)-1, Adam, BCE", 4_000, 768, 64),
    "W5": TrainSpec("W5", "Transformer encoder: Embedding(10000,64)-MHA(4x16)+residual-LayerNorm-Dense(64)-"
                          "mean-1, seq 128, Adam, BCE", 2_048, 512, 32),
    "W6": TrainSpec("W6", "CNN conv32-BN-relu-pool-conv64-BN-relu-pool-128-10, Adam, CE", 5_000, 1_024, 32),
}

# W1/W2/W3 constants, in one place so every runner builds the same model.
MLP_INPUT, MLP_HIDDEN, CLASSES = 784, (256, 128), 10
IMAGE_SHAPE = (32, 32, 3)  # channels last, as Keras takes it
VOCAB, EMBED_DIM, LSTM_UNITS, SEQ_LEN = 10_000, 64, 64, 100
# W5: one Transformer encoder block over sequences of TRANSFORMER_SEQ tokens.
TRANSFORMER_SEQ, HEADS, KEY_DIM, FEED_FORWARD = 128, 4, 16, 64
# W6: W2's network with BatchNormalization (Keras's defaults) after each convolution.
BN_MOMENTUM, BN_EPSILON = 0.99, 1e-3

# W4: predict latency on the W1 model.
PREDICT_SIZES = (1, 128)
PREDICT_CALLS, PREDICT_WARMUP = 200, 20
QUICK_PREDICT_CALLS, QUICK_PREDICT_WARMUP = 40, 5

DEFAULT_EPOCHS, QUICK_EPOCHS = 5, 3


def n_samples(name: str, quick: bool) -> int:
    spec = TRAIN_SPECS[name]
    return spec.quick_samples if quick else spec.samples


def make_data(name: str, quick: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic (x, y) for a training workload, as NumPy arrays, identical in every process.

    W1: x float32 (n, 784), y int32 (n,) in 0..9 (sparse labels).
    W2: x float32 (n, 32, 32, 3) channels last, y float32 (n, 10) one-hot.
    W3: x int32 (n, 100) token ids in 0..9999, y float32 (n, 1) in {0, 1}.
    W5: x int32 (n, 128) token ids in 0..9999, y float32 (n, 1) in {0, 1}.
    W6: as W2.
    """
    n = n_samples(name, quick)
    rng = np.random.default_rng(SEED + int(name[1:]))
    if name == "W1":
        x = rng.standard_normal((n, MLP_INPUT), dtype=np.float32)
        y = rng.integers(0, CLASSES, size=(n,), dtype=np.int32)
    elif name in ("W2", "W6"):
        x = rng.standard_normal((n, *IMAGE_SHAPE), dtype=np.float32)
        y = np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, size=(n,))]
    elif name in ("W3", "W5"):
        x = rng.integers(0, VOCAB, size=(n, SEQ_LEN if name == "W3" else TRANSFORMER_SEQ), dtype=np.int32)
        y = rng.integers(0, 2, size=(n, 1)).astype(np.float32)
    else:
        raise ValueError(f"Unknown training workload {name!r}; expected one of {TRAIN_WORKLOADS}.")
    return x, y


def make_predict_inputs() -> dict[int, np.ndarray]:
    """W4 inputs: one float32 (size, 784) array per size in PREDICT_SIZES."""
    rng = np.random.default_rng(SEED + 4)
    return {size: rng.standard_normal((size, MLP_INPUT), dtype=np.float32) for size in PREDICT_SIZES}


def train_result(epoch_seconds: list[float], samples_per_epoch: int, **extra: Any) -> dict[str, Any]:
    """Summarise per-epoch wall times: median samples/s over epochs 2..N (epoch 1 is warm-up)."""
    steady = epoch_seconds[1:] or epoch_seconds
    rates = [samples_per_epoch / seconds for seconds in steady]
    return {
        "samples_per_s": statistics.median(rates),
        "samples_per_epoch": samples_per_epoch,
        "epoch_seconds": [round(s, 5) for s in epoch_seconds],
        "warmup_seconds": round(epoch_seconds[0], 5),
        **extra,
    }


def time_calls(call: Callable[[], Any], calls: int, warmup: int) -> dict[str, Any]:
    """Median wall time of `call()` (which must block until its result is ready) after warm-up."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "calls": calls}


def predict_calls(quick: bool) -> tuple[int, int]:
    return (QUICK_PREDICT_CALLS, QUICK_PREDICT_WARMUP) if quick else (PREDICT_CALLS, PREDICT_WARMUP)


def runner_arguments(description: str) -> argparse.Namespace:
    """The command line every runner takes: --backend, --workloads, --epochs, --quick, plus variants."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", choices=("torch", "jax"), required=True)
    parser.add_argument("--workloads", default=",".join(ALL_WORKLOADS))
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam",
                        help="the optimizer W1-W3 (and W5, W6) train with: " + ", ".join(OPTIMIZERS))
    parser.add_argument("--variant", default="plain",
                        help="hand runners only: 'plain', or 'opt' (torch: CUDA graph; jax: lax.scan of steps)")
    parser.add_argument("--jit-compile", action="store_true",
                        help="library runners only: compile(jit_compile=True) (torch.compile on torch, jit on jax)")
    args = parser.parse_args()
    args.workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in args.workloads if w not in ALL_WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; expected some of {ALL_WORKLOADS}")
    if args.epochs is None:
        args.epochs = QUICK_EPOCHS if args.quick else DEFAULT_EPOCHS
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: epoch 1 is warm-up and is not measured")
    return args


def emit(payload: dict[str, Any]) -> None:
    """Print the runner's result line (the driver reads the last such line)."""
    sys.stdout.write(RESULT_MARKER + json.dumps(payload) + "\n")
    sys.stdout.flush()


def base_environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def run_workloads(framework: str, args: argparse.Namespace,
                  workloads: dict[str, Callable[[], dict[str, Any]]],
                  environment: dict[str, Any]) -> None:
    """Run the selected workloads one by one, emitting the cumulative results after each.

    A workload that raises is recorded as {"error": ...} and the others still run; the
    cumulative line means a runner killed by the driver's timeout keeps what it finished.
    """
    payload: dict[str, Any] = {
        "framework": framework,
        "backend": args.backend,
        "epochs": args.epochs,
        "quick": args.quick,
        "optimizer": getattr(args, "optimizer", "adam"),
        "environment": {**base_environment(), **environment},
        "results": {},
    }
    for name in args.workloads:
        try:
            payload["results"][name] = workloads[name]()
        except Exception as error:  # noqa: BLE001 - one failing workload must not hide the others
            traceback.print_exc(file=sys.stderr)
            payload["results"][name] = {"error": f"{type(error).__name__}: {error}"[:500]}
        emit(payload)
    if not args.workloads:
        emit(payload)


def emit_unavailable(framework: str, backend: str, reason: str) -> None:
    emit({"framework": framework, "backend": backend, "unavailable": reason[:500]})
