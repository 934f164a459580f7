"""DataParallel and ModelParallel on one jax process with four (host) devices: the same training as one
device, the batch split inside the step, the kernels split over the mesh; bad set-ups refused before work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).parent / "scripts" / "jax_mesh.py"


def launch(out: Path) -> dict:
    env = dict(os.environ, LAMINA_BACKEND="jax", OMP_NUM_THREADS="1",
               XLA_FLAGS="--xla_force_host_platform_device_count=4 --xla_backend_optimization_level=0")
    done = subprocess.run([sys.executable, str(SCRIPT), str(out)], env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def same_training(a: dict, b: dict) -> None:
    for mine, theirs in zip(a["weights"], b["weights"]):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)
    np.testing.assert_allclose(a["predict"], b["predict"], atol=1e-5)
    assert a["history"].keys() == b["history"].keys()
    for key in a["history"]:
        np.testing.assert_allclose(a["history"][key], b["history"][key], rtol=1e-5)


def test_four_devices_in_one_process(tmp_path):
    # One launch for every check: a jax process with forced host devices costs seconds to start and compile.
    run = launch(tmp_path / "result.json")
    check_data_parallel(run)
    check_model_parallel(run)
    check_keras_2_spellings(run)
    check_bad_set_ups(run)


def check_data_parallel(run: dict) -> None:
    """DataParallel trains as one device does, with the batch split inside the step."""
    assert run["devices"] == ["cpu:0", "cpu:1", "cpu:2", "cpu:3"] and run["count"] == 4
    same_training(run["data_parallel"], run["reference"])
    assert run["seen"] and all(shape == [4, 6] for shape in run["seen"])  # 16 rows: 4 on each device
    assert run["many_steps"]  # W1-sized steps, many in a row, finish (they once hung in an all-reduce)


def check_model_parallel(run: dict) -> None:
    """ModelParallel splits the kernels over the 'model' axis and trains as one device does."""
    same_training(run["model_parallel"], run["reference"])
    hidden = {device: (index, shape) for device, index, shape in run["kernel_shards"]}
    assert hidden["cpu:0"] == ([[None, None], [0, 8]], [6, 8]) and hidden["cpu:1"] == ([[None, None], [8, 16]], [6, 8])
    assert {tuple(shape) for _, _, shape in run["out_shards"]} == {(8, 4)}
    assert [shape for _, _, shape in run["tensor_shards"]] == [[2, 3]] * 4


def check_keras_2_spellings(run: dict) -> None:
    assert run["replicas"] == 4 and run["after_scope"] == "DataParallel"
    assert run["multi_gpu_mesh"] == ["cpu:0", "cpu:1"]


def check_bad_set_ups(run: dict) -> None:
    """Refused before any work, with errors that say what is wrong."""
    assert "batch_size (10) must be divisible by the number of replicas (4" in run["indivisible"]
    assert run["untouched"]
    assert "['conv.*kernel'] match no weight" in run["unmatched"]
    assert "asked for 8 devices" in run["too_many_gpus"] and "has only 4" in run["too_many_gpus"]
    assert "do not exist here" in run["mesh_too_big"] and "cpu:7" in run["mesh_too_big"]
    assert "holds 3 devices, but 2 devices were given" in run["mesh_shape"]
