"""A process killed at a random moment of a save leaves either the previous complete file or the new one.

The killing runs in a fresh interpreter that imports Lamina with the numpy backend only, so that the process
it forks holds no torch or jax threads. Its child saves one model over and over (model.save, then
save_weights), alternating two weight sets; the parent SIGKILLs it after a random delay, then loads both files
and checks that their predictions are those of one of the two weight sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

TRIALS = 50

SCRIPT = textwrap.dedent("""
    import json, os, random, signal, sys, time
    os.environ["LAMINA_BACKEND"] = "numpy"
    import numpy as np
    from lamina import layers, models

    folder, trials = sys.argv[1], int(sys.argv[2])
    path = os.path.join(folder, "model.keras")
    weights_path = os.path.join(folder, "model.weights.h5")
    model = models.Sequential([layers.Input((32,)), layers.Dense(256, activation="relu"), layers.Dense(256),
                               layers.Dense(4)])
    first = model.get_weights()
    second = [w + 0.5 for w in first]
    x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(2, 32)
    expected = []
    for weights in (first, second):
        model.set_weights(weights)
        expected.append(np.asarray(model.predict(x, verbose=0)))
    model.set_weights(first)
    started = time.perf_counter()
    model.save(path)
    model.save_weights(weights_path)
    save_seconds = time.perf_counter() - started
    rng = random.Random(20261202)
    outcomes = []
    for trial in range(trials):
        pid = os.fork()
        if pid == 0:
            try:
                for i in range(1_000_000):
                    model.set_weights(second if i % 2 == 0 else first)
                    model.save(path)
                    model.save_weights(weights_path)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 8.0 * save_seconds))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        for load in (lambda: models.load_model(path), lambda: model.load_weights(weights_path) or model):
            try:
                predicted = np.asarray(load().predict(x, verbose=0))
            except Exception as error:
                outcomes.append(f"{type(error).__name__}: {error}")
                continue
            matches = [bool(np.allclose(predicted, e, rtol=1e-6, atol=1e-6)) for e in expected]
            outcomes.append("first" if matches[0] else "second" if matches[1] else "neither")
    leftovers = [name for name in os.listdir(folder) if name.endswith(".tmp")]
    print(json.dumps({"outcomes": outcomes, "save_seconds": save_seconds, "leftovers": len(leftovers)}))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork to kill a saving process")
def test_a_killed_save_leaves_a_complete_file(tmp_path):
    environment = {**os.environ, "LAMINA_BACKEND": "numpy"}
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), str(TRIALS)], capture_output=True,
                            text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    outcomes = report["outcomes"]
    assert len(outcomes) == 2 * TRIALS  # the .keras file and the .weights.h5 file after each kill
    bad = [outcome for outcome in outcomes if outcome not in ("first", "second")]
    assert not bad, f"{len(bad)} of {2 * TRIALS} files left by killed saves are not complete saves: {bad[:5]}"
    # the kills landed at different moments: both weight sets were found on disk
    assert {"first", "second"} <= set(outcomes), outcomes
    # each save removes what killed savers left; only the last killed child's temporary files can remain
    assert report["leftovers"] <= 2, report


def test_a_save_removes_the_temporary_files_of_dead_writers_only(tmp_path):
    """Temporary files name their machine and process: a save deletes those of dead processes of this machine."""
    from lamina.saving import keras_file

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead_pid, live_pid = int(finished.stdout), os.getppid()
    target = tmp_path / "m.keras"
    dead = tmp_path / f".m.keras.{keras_file._HOST}.{dead_pid}.aaaa.tmp"
    live = tmp_path / f".m.keras.{keras_file._HOST}.{live_pid}.bbbb.tmp"
    elsewhere = tmp_path / f".m.keras.another-machine.{dead_pid}.cccc.tmp"
    other_file = tmp_path / f".n.keras.{keras_file._HOST}.{dead_pid}.dddd.tmp"
    for path in (dead, live, elsewhere, other_file):
        path.write_bytes(b"partial")
    keras_file.atomic_write(target, lambda stream: stream.write(b"whole"))
    assert target.read_bytes() == b"whole"
    assert not dead.exists() and live.exists() and elsewhere.exists() and other_file.exists()
