"""W1 data-parallel over 2 processes against 1 process, on torch (torchrun, gloo) or jax, as ratios.

Runs of W1 (MLP 784-256-128-10, Adam, sparse cross-entropy + accuracy), timed per epoch (median of epochs
2..N, epoch 1 is warm-up):
  - one process, global batch 128, one thread (and again with two threads);
  - one process, batch 64: the batch each of the two processes steps on;
  - two processes, global batch 128 (64 rows each), gradients all-reduced in every step: under torchrun
    (torch), or joined by jax.distributed.initialize on 127.0.0.1 (jax, CPU collectives);
  - jax only: one process with two forced host devices, lamina.distribution.DataParallel over both.
Printed: samples/s of each run, the 2-process/1-process throughput ratio, and the per-step overhead of the
distributed step (time of a 2-process step on 64 rows each over a 1-process step on 64 rows).

    python benchmarks/distributed.py [--backend torch|jax] [--quick] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))


def train(quick: bool, epochs: int, batch_size: int, out: Path | None) -> dict:
    """W1 trained in this process (under the distribution torchrun's environment gives, if any)."""
    import lamina
    from lamina import callbacks, distribution, layers, models
    from lamina.distribution.processes import TorchProcesses
    from workloads import make_data, train_result

    if os.environ.get("LAMINA_BACKEND") == "torch":
        processes = TorchProcesses()
    elif os.environ.get("BENCH_JAX_PROCESS"):  # "port,count,index"
        port, count, index = (int(part) for part in os.environ["BENCH_JAX_PROCESS"].split(","))
        distribution.initialize(f"127.0.0.1:{port}", count, index)
        processes = distribution.DataParallel()
    else:  # one jax process: every device it has (two when forced) in one DataParallel
        processes = distribution.DataParallel()
    distribution.set_distribution(processes)
    x, y = make_data("W1", quick)
    lamina.set_random_seed(0)
    model = models.Sequential([layers.Input((784,)), layers.Dense(256, activation="relu"),
                               layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    seconds: list[float] = []

    class Clock(callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            self.last = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            float((logs or {})["loss"])
            now = time.perf_counter()
            seconds.append(now - self.last)
            self.last = now

    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[Clock()])
    result = train_result(seconds, len(x), steps=-(-len(x) // batch_size), processes=processes.process_count)
    if out is not None and processes.is_chief:
        out.write_text(json.dumps(result))
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(arguments: list[str], environment: dict, out: Path) -> dict:
    subprocess.run(arguments, env=environment, check=True, timeout=1800)
    return json.loads(out.read_text())


def _two_jax_processes(arguments: list[str], environment: dict, out: Path) -> dict:
    """Two jax processes of one thread each, joined through a coordinator on 127.0.0.1; process 0 reports."""
    port = _free_port()
    single_threaded = {**environment, "OMP_NUM_THREADS": "1", "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}
    children = [subprocess.Popen([sys.executable, *arguments],
                                 env={**single_threaded, "BENCH_JAX_PROCESS": f"{port},2,{index}"})
                for index in range(2)]
    for child in children:
        if child.wait(timeout=1800):
            raise RuntimeError(f"a jax process failed with exit status {child.returncode}")
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("torch", "jax"), default="torch")
    parser.add_argument("--quick", action="store_true", help="12,800 samples instead of 60,000")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--worker", nargs=2, metavar=("BATCH", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        train(args.quick, args.epochs, int(args.worker[0]), Path(args.worker[1]))
        return
    environment = {**os.environ, "LAMINA_BACKEND": args.backend}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "XLA_FLAGS", "BENCH_JAX_PROCESS"):
        environment.pop(name, None)
    common = ["--epochs", str(args.epochs)] + (["--quick"] if args.quick else [])
    script = str(Path(__file__).resolve())
    with tempfile.TemporaryDirectory() as folder:
        results = {}
        runs = (("1 process, batch 128", 128, "1"), ("1 process, batch 64", 64, "1"),
                ("1 process (2 threads), batch 128", 128, "2"))
        for label, batch, threads in runs:
            out = Path(folder) / f"single_{batch}_{threads}.json"
            one_thread = {"XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"} if threads == "1" else {}
            results[label] = _run([sys.executable, script, *common, "--worker", str(batch), str(out)],
                                  {**environment, "OMP_NUM_THREADS": threads, **one_thread}, out)
        out = Path(folder) / "two.json"
        label = "2 processes, global batch 128"
        if args.backend == "torch":
            launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                        f"--master_port={_free_port()}", script]
            results[label] = _run([*launcher, *common, "--worker", "128", str(out)],
                                  {**environment, "OMP_NUM_THREADS": "1"}, out)
        else:
            results[label] = _two_jax_processes([script, *common, "--worker", "128", str(out)], environment, out)
            out = Path(folder) / "devices.json"
            forced = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
            results["1 process, 2 host devices, batch 128"] = _run(
                [sys.executable, script, *common, "--worker", "128", str(out)], {**environment, **forced}, out)
    for label, result in results.items():
        print(f"{label:32s} {result['samples_per_s']:10.0f} samples/s   epochs {result['epoch_seconds']}")
    one, two = results["1 process, batch 128"], results["2 processes, global batch 128"]
    threaded = results["1 process (2 threads), batch 128"]
    step = {label: 1 / (r["samples_per_s"] / r["samples_per_epoch"] * r["steps"]) for label, r in results.items()}
    print(f"W1 samples/s, 2 processes / 1 process (global batch 128): {two['samples_per_s'] / one['samples_per_s']:.2f}x")
    print(f"W1 samples/s, 2 processes / 1 process of 2 threads: {two['samples_per_s'] / threaded['samples_per_s']:.2f}x")
    print(f"per-step time, 2-process step (64 rows each) / 1-process step on 64 rows: "
          f"{step['2 processes, global batch 128'] / step['1 process, batch 64']:.2f}x")
    print(f"(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
