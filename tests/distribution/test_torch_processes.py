"""TorchProcesses: data parallelism over torchrun's processes (gloo on the CPU).

Two launches (one torchrun with two processes; two torchrun launchers of one process each meeting through a
c10d rendezvous) train small models that the test process also trains alone; weights, histories and
predictions must agree, and only process 0 may print progress or write files.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lamina import backend, models

SCRIPTS = Path(__file__).parent / "scripts"
sys.path.insert(0, str(SCRIPTS))
import torch_train  # noqa: E402

pytestmark = pytest.mark.skipif("torch" not in backend.BACKENDS, reason="needs the torch backend")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _child_environment() -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    environment.update(OMP_NUM_THREADS="1", LAMINA_BACKEND="torch")
    return environment


def _launch(out: Path, *arguments: str, launchers: int = 1, processes: int = 2, extra: tuple = ()) -> None:
    """torchrun launchers, each of `processes` processes, running the training script; they must succeed."""
    port = _free_port()
    commands = []
    for node in range(launchers):
        rendezvous = (["--nnodes=1", f"--master_port={port}"] if launchers == 1 else
                      [f"--nnodes={launchers}", f"--node_rank={node}", "--rdzv_backend=c10d",
                       f"--rdzv_endpoint=127.0.0.1:{port}", "--rdzv_id=lamina-test"])
        commands.append([sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}",
                         *rendezvous, str(SCRIPTS / "torch_train.py"), str(out), *arguments])
    running = [subprocess.Popen(command, env=_child_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True) for command in commands]
    outputs = []
    try:
        for launcher in running:
            outputs.append(launcher.communicate(timeout=150)[0])
    finally:
        for launcher in running:
            if launcher.poll() is None:
                launcher.kill()
    for launcher, output in zip(running, outputs):
        assert launcher.returncode == 0, output[-4000:]


@pytest.fixture(scope="module")
def single() -> dict:
    """The models trained in this one process: weights, history, predictions on the training inputs."""
    with backend.use("torch"):
        results = {}
        for kind in ("mlp", "cnn", "lstm", "own_step"):
            built, history = torch_train.train(kind)
            results[kind] = (torch_train.weights(built), history, built.predict(torch_train.data(kind)[0], verbose=0))
        built, history = torch_train.train_batches()
        results["batches"] = (torch_train.weights(built), history, None)
        return results


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("two_processes")
    _launch(out)
    return out


def _check_run(out: Path, name: str, reference: tuple, ranks: tuple = (0, 1)) -> None:
    weights, history, _ = reference
    for rank in ranks:
        saved = np.load(out / f"{name}_weights_{rank}.npz")
        assert len(saved.files) == len(weights)
        for index, expected in enumerate(weights):
            np.testing.assert_allclose(saved[f"arr_{index}"], expected, atol=1e-5, rtol=0,
                                       err_msg=f"{name} weight {index} of process {rank}")
        logged = json.loads((out / f"{name}_history_{rank}.json").read_text())
        assert set(logged) == set(history)
        for key, values in history.items():
            np.testing.assert_allclose(logged[key], values, rtol=1e-5, atol=1e-6, err_msg=f"{name} {key}")


@pytest.mark.parametrize("kind", ["mlp", "cnn", "lstm"])
def test_two_processes_train_as_one(two_processes: Path, single: dict, kind: str) -> None:
    """Same global batch, seed and order: the weights of both processes and the history equal one process's
    (the MLP has synchronized batch normalization, and the last batch splits unevenly, 3 rows and 2)."""
    _check_run(two_processes, kind, single[kind])


def test_a_models_own_train_step_trains_as_one_process(two_processes: Path, single: dict) -> None:
    """A train_step that calls loss.backward() and optimizer.apply itself: the optimizer averages the
    gradients over the processes (weighted by rows), so the weights equal one process's. The logged loss is
    each process's mean over its own rows, averaged: on the uneven last batch it is not one batch's mean."""
    weights = single["own_step"][0]
    for rank in (0, 1):
        saved = np.load(two_processes / f"own_step_weights_{rank}.npz")
        for index, expected in enumerate(weights):
            np.testing.assert_allclose(saved[f"arr_{index}"], expected, atol=1e-5, rtol=0,
                                       err_msg=f"own_step weight {index} of process {rank}")


def test_a_py_dataset_is_shared_by_rows(two_processes: Path, single: dict) -> None:
    """Every process reads each batch of the PyDataset (shuffled alike) and trains on its rows of it."""
    _check_run(two_processes, "batches", single["batches"])


def test_fully_sharded_option_trains_as_data_parallel(two_processes: Path, single: dict) -> None:
    _check_run(two_processes, "fsdp", single["mlp"])


def test_only_process_zero_prints_and_writes(two_processes: Path) -> None:
    assert "Epoch 3/3" in (two_processes / "stdout_0.txt").read_text()
    assert "Epoch" not in (two_processes / "stdout_1.txt").read_text()
    assert (two_processes / "checkpoint_0.keras").is_file() and (two_processes / "log_0.csv").is_file()
    assert not (two_processes / "checkpoint_1.keras").exists() and not (two_processes / "log_1.csv").exists()
    assert len((two_processes / "log_0.csv").read_text().splitlines()) == 1 + torch_train.EPOCHS


def test_a_model_saved_by_two_processes_loads_in_one(two_processes: Path, single: dict) -> None:
    """Both processes loaded the file right after saving it (a barrier); here one process loads it and predicts
    as the model trained in one process does."""
    x, expected = torch_train.data("mlp")[0], single["mlp"][2]
    for rank in (0, 1):
        np.testing.assert_allclose(np.load(two_processes / f"predictions_{rank}.npy"), expected, atol=1e-5)
    with backend.use("torch"):
        loaded = models.load_model(two_processes / "model.keras")
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-5)


def test_two_launchers_meeting_by_rendezvous_train_as_one(tmp_path: Path, single: dict) -> None:
    """--nnodes=2: two launchers on 127.0.0.1, one process each, joined by a c10d rendezvous."""
    _launch(tmp_path, "--mlp-only", launchers=2, processes=1)
    _check_run(tmp_path, "mlp", single["mlp"])
