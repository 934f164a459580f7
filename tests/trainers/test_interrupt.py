"""Ctrl-C during fit, at random moments: the model stays at its last completed step, usable and savable."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

TRIALS = 5

# Runs in its own process: SIGINT goes to the whole process, which must not be the test runner's.
SCRIPT = textwrap.dedent("""
    import os, random, signal, sys, tempfile, threading
    # Ctrl-C raises KeyboardInterrupt, as in a user's program, whatever disposition the test runner's
    # worker passed down (an ignored SIGINT is inherited, and Python then installs no handler).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import numpy as np
    import lamina
    from lamina.layers import Dense, Dropout
    from lamina.models import Sequential, load_model

    trials = int(sys.argv[1])
    if lamina.backend.backend() == "jax":
        import jax
        # Synchronous steps: an interrupt then lands while a step runs (and its input buffers are donated)
        # as often as on an accelerator under load, not only in the microseconds of an async dispatch.
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    data = np.random.default_rng(0)
    x = data.standard_normal((2048, 256)).astype("float32")
    y = data.integers(0, 10, 2048)
    # Steps heavy enough that most of the time is spent inside them, where an interrupt does harm.
    model = Sequential([Dense(512, activation="relu", input_dim=256), Dropout(0.1), Dense(512, activation="relu"),
                        Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=256, epochs=1, verbose=0)  # the steps are compiled before the trials
    moments = random.Random(int(sys.argv[2]))
    interrupted = 0
    folder = tempfile.mkdtemp()
    for trial in range(trials):
        lock, finished = threading.Lock(), []

        def interrupt():
            with lock:
                if not finished:
                    os.kill(os.getpid(), signal.SIGINT)

        timer = threading.Timer(moments.uniform(0.005, 0.4), interrupt)
        try:
            timer.start()
            model.fit(x, y, epochs=200, batch_size=256, verbose=0)  # far longer than any delay
        except KeyboardInterrupt:
            interrupted += 1
        finally:
            with lock:
                finished.append(True)
            timer.cancel()
        weights = model.get_weights()
        assert all(np.isfinite(w).all() for w in weights), "weights are not finite after Ctrl-C"
        predictions = model.predict(x[:16], verbose=0)
        assert predictions.shape == (16, 10) and np.isfinite(predictions).all()
        path = os.path.join(folder, "model.keras")
        model.save(path)
        # The weights, not predictions: a reloaded model's predict would compile anew in every trial.
        for saved, kept in zip(load_model(path).get_weights(), weights):
            np.testing.assert_array_equal(saved, kept)
    loss = model.evaluate(x, y, verbose=0)[0]
    model.fit(x[:256], y[:256], epochs=1, verbose=0)
    print("interrupted", interrupted, "of", trials, "loss", loss)
""")


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_fit_interrupted_at_random_moments_leaves_a_usable_model(backend_name, tmp_path):
    environment = {**os.environ, "LAMINA_BACKEND": backend_name}
    environment.pop("XLA_FLAGS", None)  # the heavy steps here want jax's optimized code, not the suite's setting
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(TRIALS), "7"], capture_output=True, text=True,
                            env=environment, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    interrupted = int(result.stdout.split("interrupted ")[1].split()[0])
    assert interrupted == TRIALS, result.stdout
