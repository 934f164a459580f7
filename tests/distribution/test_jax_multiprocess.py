"""Two jax processes joined by lamina.distribution.initialize on 127.0.0.1 (CPU collectives) train as one
process does; only process 0 prints progress and writes files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
from lamina import backend

SCRIPTS = Path(__file__).parent / "scripts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(out: Path) -> list[subprocess.CompletedProcess]:
    env = dict(os.environ, LAMINA_BACKEND="jax", OMP_NUM_THREADS="1",
               XLA_FLAGS="--xla_backend_optimization_level=0")
    port, script = free_port(), str(SCRIPTS / "jax_multiprocess.py")
    children = [subprocess.Popen([sys.executable, script, str(port), "2", str(index), str(out)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for index in range(2)]
    done = []
    try:
        for child in children:
            stdout, stderr = child.communicate(timeout=150)
            done.append(subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    return done


def test_two_processes_train_as_one(tmp_path):
    done = launch(tmp_path)
    for child in done:
        assert child.returncode == 0, child.stderr[-3000:]
    assert "Epoch 1/3" in done[0].stdout and "loss" in done[0].stdout
    # Only process 0 prints (gloo's own connection notice aside).
    assert [line for line in done[1].stdout.splitlines() if not line.startswith("[Gloo]")] == []
    assert sorted(os.listdir(tmp_path)) == ["result.json", "weights.npz"]
    result = json.loads((tmp_path / "result.json").read_text())
    assert len(result["devices"]) == 2

    sys.path.insert(0, str(SCRIPTS))
    try:
        import jax_multiprocess as program
    finally:
        sys.path.remove(str(SCRIPTS))
    with backend.use("jax"):
        net = program.model()
        alone = program.train(net)
        weights = net.get_weights()
    distributed = np.load(tmp_path / "weights.npz")
    for index, weight in enumerate(weights):
        np.testing.assert_allclose(distributed[f"arr_{index}"], weight, atol=1e-5)
    for key, values in alone["history"].items():
        np.testing.assert_allclose(result["history"][key], values, rtol=1e-5)
    np.testing.assert_allclose(result["evaluate"], alone["evaluate"], rtol=1e-5)
    np.testing.assert_allclose(result["predict"], alone["predict"], atol=1e-5)
