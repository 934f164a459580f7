"""BackupAndRestore: a training process killed mid-epoch resumes and ends with the weights of an unbroken run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

# The script trains a small model with a backup; with a marker path it announces (then sleeps in) batch 2
# of epoch 3, where the test kills it.
SCRIPT = textwrap.dedent('''
    import json, sys, time
    import numpy as np
    import lamina
    from lamina import callbacks, layers, models

    backup_dir, output, marker = sys.argv[1], sys.argv[2], sys.argv[3]
    lamina.utils.set_random_seed(7)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 1))).astype("float32")
    model = models.Sequential([layers.Input((5,)), layers.Dense(8, activation="tanh"), layers.Dropout(0.25),
                               layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    epochs_run = []

    class KillPoint(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epochs_run.append(epoch)
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            if marker != "-" and self.epoch == 2 and batch == 2:
                open(marker, "w").close()
                time.sleep(60)

    model.fit(x, y, batch_size=8, epochs=5, verbose=0,
              callbacks=[callbacks.BackupAndRestore(backup_dir), KillPoint()])
    np.savez(output, *model.get_weights())
    with open(output + ".json", "w") as stream:
        json.dump({"epochs_run": epochs_run}, stream)
''')


def run_script(script: Path, backend_name: str, *args: str) -> subprocess.Popen:
    # One thread each: the two processes run side by side on a small machine.
    env = {**os.environ, "LAMINA_BACKEND": backend_name, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(script), *args], env=env, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen, timeout: float = 180) -> None:
    _, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, stderr.decode()


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the script ended before the marker: {process.stderr.read().decode()}")
        assert time.monotonic() < deadline, "the script never reached the kill point"
        time.sleep(0.05)


# Three processes per backend: jax's take long to start, so it runs when LAMINA_TEST_ALL_BACKENDS=1.
ALL_BACKENDS = os.environ.get("LAMINA_TEST_ALL_BACKENDS") == "1"


@pytest.mark.parametrize("backend_name", [
    "torch",
    pytest.param("jax", marks=pytest.mark.skipif(not ALL_BACKENDS, reason="set LAMINA_TEST_ALL_BACKENDS=1")),
])
def test_fit_killed_mid_epoch_resumes_to_the_weights_of_an_unbroken_run(tmp_path, backend_name):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    backup, marker = tmp_path / "backup", tmp_path / "marker"
    started: list[subprocess.Popen] = []
    try:
        # The unbroken run goes alongside the one that is killed.
        reference = run_script(script, backend_name, str(tmp_path / "reference_backup"), str(tmp_path / "ref.npz"),
                               "-")
        killed = run_script(script, backend_name, str(backup), str(tmp_path / "killed.npz"), str(marker))
        started += [reference, killed]
        wait_for(marker, killed)
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=30)
        assert killed.returncode == -signal.SIGKILL
        assert json.loads((backup / "training_metadata.json").read_text()) == {"epoch": 2, "batch": 0}

        resumed = run_script(script, backend_name, str(backup), str(tmp_path / "resumed.npz"), "-")
        started.append(resumed)
        finish(resumed)
        finish(reference)
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert json.loads((tmp_path / "resumed.npz.json").read_text()) == {"epochs_run": [2, 3, 4]}
    assert not backup.exists()  # removed after the successful fit (delete_checkpoint)
    expected, resumed_weights = np.load(tmp_path / "ref.npz"), np.load(tmp_path / "resumed.npz")
    assert len(expected.files) == len(resumed_weights.files) == 4
    for name in expected.files:
        np.testing.assert_allclose(resumed_weights[name], expected[name], rtol=0, atol=1e-6)


# --- in one process ----------------------------------------------------------------------------------------


def small_fit(backup_dir, epochs: int, **kwargs):
    """A seeded model trained `epochs` epochs with a BackupAndRestore that keeps its files."""
    import lamina
    from lamina import callbacks, layers, models

    lamina.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 3)).astype("float32"), rng.normal(size=(20, 1)).astype("float32")
    model = models.Sequential([layers.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(1)])
    model.compile("adam", "mse")
    callbacks_ = [] if backup_dir is None else [callbacks.BackupAndRestore(backup_dir, **kwargs)]
    history = model.fit(x, y, batch_size=4, epochs=epochs, verbose=0, callbacks=callbacks_)
    return model, history


def test_a_second_fit_resumes_from_the_backup(training_backend, tmp_path):
    reference, _ = small_fit(None, 4)
    small_fit(tmp_path, 2, delete_checkpoint=False)
    assert json.loads((tmp_path / "training_metadata.json").read_text()) == {"epoch": 2, "batch": 0}
    model, history = small_fit(tmp_path, 4)
    assert history.epoch == [2, 3]
    assert int(np.asarray(model.optimizer.iterations)) == 20  # the optimizer's count came back too
    for expected, resumed in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_allclose(resumed, expected, rtol=0, atol=1e-6)
    assert not tmp_path.exists()


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path):
    small_fit(tmp_path, 3, double_checkpoint=True, delete_checkpoint=False)
    assert json.loads((tmp_path / "training_metadata.json.bkp").read_text())["epoch"] == 2
    (tmp_path / "latest.weights.npz").write_bytes(b"not a zip")  # a damaged latest backup
    _, history = small_fit(tmp_path, 4, double_checkpoint=True, delete_checkpoint=False)
    assert history.epoch == [2, 3]


def test_damaged_backup_without_a_previous_one_is_an_error(tmp_path):
    small_fit(tmp_path, 1, delete_checkpoint=False)
    (tmp_path / "latest.weights.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="Cannot restore the backup"):
        small_fit(tmp_path, 2)


def test_save_freq_in_batches_backs_up_during_the_epoch(tmp_path):
    from lamina import callbacks

    seen = []

    class Spy(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            path = tmp_path / "training_metadata.json"
            seen.append(json.loads(path.read_text()) if path.exists() else None)

    import lamina
    from lamina import layers, models

    lamina.utils.set_random_seed(1)
    model = models.Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((20, 2), "float32")
    model.fit(x, x[:, :1], batch_size=4, epochs=2, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path, save_freq=2, delete_checkpoint=False), Spy()])
    assert seen[:4] == [None, {"epoch": 0, "batch": 1}, {"epoch": 0, "batch": 1}, {"epoch": 0, "batch": 3}]
    # Batches count on across the epoch boundary (5 batches an epoch), as Keras counts them.
    assert seen[4:] == [{"epoch": 0, "batch": 3}, {"epoch": 1, "batch": 0}, {"epoch": 1, "batch": 0},
                        {"epoch": 1, "batch": 2}, {"epoch": 1, "batch": 2}, {"epoch": 1, "batch": 4}]


def test_arguments_and_unbuilt_models_are_refused(tmp_path):
    from lamina import callbacks, layers, models

    with pytest.raises(ValueError, match="backup_dir"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(tmp_path, save_freq="batch")
    backup = callbacks.BackupAndRestore(tmp_path)
    backup.set_model(models.Sequential([layers.Dense(1)]))
    with pytest.raises(ValueError, match="must be built"):
        backup.on_train_begin()
