"""Benchmark driver: Lamina against hand-written loops and Keras 3, side by side in one run.

Each framework/backend pair runs in its own subprocess (same interpreter) and prints
its results as a JSON line; this driver collects them and prints, per workload,
samples/s and the ratio to the hand-written loop of the same backend (training),
or the latency and its ratio to calling the hand-written model directly (W4).

    python benchmarks/run.py [--workloads W1,W2,W3,W4] [--frameworks hand,lamina,keras]
                             [--backends torch,jax] [--epochs N] [--quick] [--repeat R]
                             [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import workloads as wl

HERE = Path(__file__).resolve().parent
BACKENDS = ("torch", "jax")
# framework -> (script per backend, extra arguments, environment variable naming the backend)
FRAMEWORKS: dict[str, tuple[dict[str, str], list[str], str | None]] = {
    "hand": ({"torch": "hand_torch.py", "jax": "hand_jax.py"}, [], None),
    "hand-opt": ({"torch": "hand_torch.py", "jax": "hand_jax.py"}, ["--variant", "opt"], None),
    "lamina": ({"torch": "lamina_runner.py", "jax": "lamina_runner.py"}, [], "LAMINA_BACKEND"),
    "lamina-jit": ({"torch": "lamina_runner.py", "jax": "lamina_runner.py"}, ["--jit-compile"], "LAMINA_BACKEND"),
    "keras": ({"torch": "keras_runner.py", "jax": "keras_runner.py"}, [], "KERAS_BACKEND"),
}
DEFAULT_FRAMEWORKS = ("hand", "lamina", "lamina-jit", "keras")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(wl.ALL_WORKLOADS), help="comma list of W1,W2,W3,W4,W5,W6")
    parser.add_argument("--frameworks", default=",".join(DEFAULT_FRAMEWORKS),
                        help=f"comma list of {', '.join(FRAMEWORKS)} (hand is always run as the baseline)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma list of torch,jax")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs per training run, the first is warm-up (default {wl.DEFAULT_EPOCHS}, "
                             f"{wl.QUICK_EPOCHS} with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer samples, epochs and predict calls")
    parser.add_argument("--optimizer", default="adam",
                        help="comma list of the optimizers every framework trains with, one after the other, same "
                             "hyperparameters everywhere: " + ", ".join(wl.OPTIMIZERS))
    parser.add_argument("--json", type=Path, default=None, help="write all results to this JSON file")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every framework/backend this many times, interleaved, and keep the best")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed per subprocess (default 1800, 600 with --quick)")
    args = parser.parse_args()
    args.workloads = choose(parser, "workloads", args.workloads.upper(), wl.ALL_WORKLOADS)
    args.frameworks = choose(parser, "frameworks", args.frameworks.lower(), tuple(FRAMEWORKS))
    if "hand" not in args.frameworks:
        args.frameworks.insert(0, "hand")
    args.backends = choose(parser, "backends", args.backends.lower(), BACKENDS)
    args.optimizers = choose(parser, "optimizer", args.optimizer.lower(), wl.OPTIMIZERS)
    args.optimizer = args.optimizers[0]
    if args.epochs is None:
        args.epochs = wl.QUICK_EPOCHS if args.quick else wl.DEFAULT_EPOCHS
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: epoch 1 is warm-up and is not measured")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.timeout is None:
        args.timeout = 600.0 if args.quick else 1800.0
    return args


def choose(parser: argparse.ArgumentParser, option: str, value: str, allowed: tuple[str, ...]) -> list[str]:
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in allowed]
    if unknown or not chosen:
        parser.error(f"--{option}: unknown {unknown or 'empty list'}; expected some of {', '.join(allowed)}")
    return [item for item in allowed if item in chosen]


def run_one(framework: str, backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one framework/backend subprocess and return its parsed result (never raises)."""
    scripts, extra, variable = FRAMEWORKS[framework]
    workloads = [w for w in args.workloads if framework != "hand-opt" or w != "W4"]
    if not workloads:
        return {"framework": framework, "backend": backend, "results": {}, "wall_seconds": 0.0}
    command = [sys.executable, str(HERE / scripts[backend]), "--backend", backend, "--workloads",
               ",".join(workloads), "--epochs", str(args.epochs), "--optimizer", args.optimizer, *extra] + \
        (["--quick"] if args.quick else [])
    environment = dict(os.environ)
    if variable:
        environment[variable] = backend
    started = time.perf_counter()
    timed_out = False
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment, cwd=HERE)
    try:
        stdout, stderr = process.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        timed_out = True
    except BaseException:  # Ctrl-C or SIGTERM: never leave the runner behind
        process.kill()
        process.wait()
        raise
    result = last_result(stdout)
    if result is not None:
        result["framework"] = framework  # a runner names its library, not the variant it ran
    seconds = time.perf_counter() - started
    if result is None:
        reason = (f"timed out after {args.timeout:.0f}s" if timed_out else
                  f"exited with code {process.returncode} without a result: {last_line(stderr)}")
        result = {"framework": framework, "backend": backend, "unavailable": reason}
    elif timed_out:
        for name in workloads:
            result["results"].setdefault(name, {"error": f"timed out after {args.timeout:.0f}s"})
    result["wall_seconds"] = round(seconds, 2)
    if stderr.strip() and ("unavailable" in result or any("error" in r for r in result.get("results", {}).values())):
        result["stderr_tail"] = stderr.strip()[-2000:]
    return result


def last_result(stdout: str) -> dict[str, Any] | None:
    lines = [line for line in (stdout or "").splitlines() if line.startswith(wl.RESULT_MARKER)]
    if not lines:
        return None
    try:
        return json.loads(lines[-1][len(wl.RESULT_MARKER):])
    except ValueError:
        return None


def last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def status_of(run: dict[str, Any], workload: str) -> tuple[dict[str, Any] | None, str]:
    """The run's result for the workload, or None and the reason it has none."""
    if "unavailable" in run:
        return None, f"unavailable: {run['unavailable']}"
    result = run.get("results", {}).get(workload)
    if result is None:
        return None, "not run"
    if "error" in result:
        return None, f"error: {result['error']}"
    return result, ""


def training_table(name: str, runs: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    spec = wl.TRAIN_SPECS[name]
    title = spec.title.replace("Adam", wl.OPTIMIZER_NAMES[args.optimizer])
    lines = [f"{name}  {title}: {wl.n_samples(name, args.quick):,} samples, batch {spec.batch_size}, "
             f"{args.epochs} epochs; median samples/s over epochs 2..{args.epochs}",
             f"  {'backend':<8}{'framework':<11}{'samples/s':>12}{'vs hand':>9}{'warm-up s':>11}{'last loss':>11}"]
    for backend in args.backends:
        hand = next((r for r in runs if r["backend"] == backend and r["framework"] == "hand"), None)
        baseline = status_of(hand, name)[0] if hand else None
        for run in (r for r in runs if r["backend"] == backend):
            result, reason = status_of(run, name)
            prefix = f"  {backend:<8}{run['framework']:<11}"
            if result is None:
                lines.append(prefix + reason[:200])
                continue
            ratio = f"{result['samples_per_s'] / baseline['samples_per_s']:.2f}x" if baseline else "-"
            loss = result.get("loss")
            lines.append(prefix + f"{result['samples_per_s']:>12,.0f}{ratio:>9}{result['warmup_seconds']:>11.2f}"
                         + (f"{loss:>11.4f}" if isinstance(loss, (int, float)) else f"{'-':>11}"))
    return lines


def predict_table(runs: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    calls, warmup = wl.predict_calls(args.quick)
    header = "".join(f"{f'{size} sample(s) ms':>18}{'vs direct':>11}" for size in wl.PREDICT_SIZES)
    lines = [f"W4  predict latency, W1 model: median of {calls} calls after {warmup} warm-up; "
             "hand = calling the model directly; vs direct = times slower",
             f"  {'backend':<8}{'framework':<11}" + header]
    for backend in args.backends:
        hand = next((r for r in runs if r["backend"] == backend and r["framework"] == "hand"), None)
        baseline = status_of(hand, "W4")[0] if hand else None
        for run in (r for r in runs if r["backend"] == backend and r["framework"] != "hand-opt"):
            result, reason = status_of(run, "W4")
            prefix = f"  {backend:<8}{run['framework']:<11}"
            if result is None:
                lines.append(prefix + reason[:200])
                continue
            cells = []
            for size in map(str, wl.PREDICT_SIZES):
                median = result[size]["median_s"]
                ratio = f"{median / baseline[size]['median_s']:.1f}x" if baseline else "-"
                cells.append(f"{median * 1e3:>18.3f}{ratio:>11}")
            lines.append(prefix + "".join(cells))
    return lines


def environment_lines(runs: list[dict[str, Any]]) -> list[str]:
    lines = []
    for run in runs:
        environment = run.get("environment")
        if environment:
            versions = ", ".join(f"{key} {environment[key]}" for key in ("torch", "jax", "keras", "lamina")
                                 if key in environment)
            lines.append(f"  {run['framework']}/{run['backend']}: {versions}; device {environment.get('device')} "
                         f"({environment.get('device_name', '')}); {run['wall_seconds']}s")
    return lines


def best_of(repeats: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge repeated runs of one framework/backend: per workload, the fastest result.

    On a shared machine, interference only ever slows a run down, so the best of
    several interleaved repeats is the least disturbed measurement.
    """
    available = [run for run in repeats if "unavailable" not in run]
    if len(available) < 2:
        return (available or repeats)[0]
    merged = {**available[0], "results": {}, "repeats": len(available),
              "wall_seconds": round(sum(run["wall_seconds"] for run in available), 2)}
    for name in available[0]["results"]:
        good = [run["results"][name] for run in available if "error" not in run["results"].get(name, {"error": 1})]
        if not good:
            merged["results"][name] = available[0]["results"][name]
        elif name == "W4":
            merged["results"][name] = {size: min((r[size] for r in good), key=lambda t: t["median_s"])
                                        for size in good[0]}
        else:
            merged["results"][name] = max(good, key=lambda r: r["samples_per_s"])
    return merged


def load_average() -> str:
    try:
        return "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "load average unknown"


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every framework/backend pair on args.workloads with args.optimizer; the best of the repeats of each."""
    pairs = [(backend, framework) for backend in args.backends for framework in args.frameworks]
    repeats: dict[tuple[str, str], list[dict[str, Any]]] = {pair: [] for pair in pairs}
    for round_number in range(1, args.repeat + 1):  # interleaved, so a busy spell hits one repeat only
        for backend, framework in pairs:
            print(f"[bench] {framework} on {backend}, {args.optimizer} (round {round_number}/{args.repeat}) ...",
                  file=sys.stderr, flush=True)
            run = run_one(framework, backend, args)
            repeats[backend, framework].append(run)
            state = f"unavailable: {run['unavailable']}" if "unavailable" in run else "done"
            print(f"[bench] {framework} on {backend}: {state} ({run['wall_seconds']}s)", file=sys.stderr, flush=True)
    return [best_of(repeats[pair]) for pair in pairs]


def main() -> None:
    args = parse_arguments()
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    load_before = load_average()
    workloads, sections, every_run = list(args.workloads), [], {}
    for number, optimizer in enumerate(args.optimizers):
        # W4 (predict) does not train: it runs with the first optimizer only.
        args.optimizer = optimizer
        args.workloads = [w for w in workloads if number == 0 or w != "W4"]
        if not args.workloads:
            continue
        runs = measure(args)
        every_run[optimizer] = runs
        sections.append((list(args.workloads), optimizer, runs))
    mode = ("quick" if args.quick else "full") + (f", best of {args.repeat}" if args.repeat > 1 else "")
    report = [f"Lamina benchmarks ({mode}), python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
              f"{load_before} before, {load_average()} after",
              *environment_lines(sections[0][2] if sections else []), ""]
    for names, optimizer, runs in sections:
        args.optimizer = optimizer
        for name in names:
            report += (predict_table(runs, args) if name == "W4" else training_table(name, runs, args)) + [""]
    print("\n".join(report))
    if args.json:
        payload = {"config": {key: (str(value) if isinstance(value, Path) else value)
                              for key, value in vars(args).items()},
                   "load": {"before": load_before, "after": load_average()}, "runs": every_run}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
