"""The Keras tutorial programs in examples/ run unchanged (but for the import) on torch and jax, and learn."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, **kwargs):
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(name).main(**kwargs)
    finally:
        sys.path.remove(str(EXAMPLES))


def loss_went_down(history: dict) -> bool:
    return history["loss"][-1] < history["loss"][0]


def test_mlp_softmax(training_backend):
    result = run_example("mlp_softmax")
    assert loss_went_down(result["history"])
    assert set(result["history"]) == {"loss", "accuracy"}
    assert len(result["history"]["loss"]) == 10
    assert result["accuracy"] > 0.5
    assert result["predictions"].shape == (5, 10)
    np.testing.assert_allclose(result["predictions"].sum(axis=1), 1.0, rtol=1e-5)


def test_mlp_sgd_with_validation_data(training_backend, capsys):
    result = run_example("mlp_sgd_validation")
    assert set(result["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert loss_went_down(result["history"])
    score = result["score"]
    assert isinstance(score, list) and len(score) == 2
    assert "Test accuracy:" in capsys.readouterr().out


def test_mnist_mlp_with_integer_labels(training_backend):
    result = run_example("mnist_mlp")
    assert loss_went_down(result["history"])
    assert result["accuracy"] > 0.9


def test_pima_binary(training_backend):
    result = run_example("pima_binary", epochs=60)  # the tutorial's 150 epochs reach the same accuracy
    assert result["scores"][1] > 0.9
    assert loss_went_down(result["history"])


def test_cifar_cnn(training_backend):
    result = run_example("cifar_cnn")
    assert loss_went_down(result["history"])
    assert {"val_loss", "val_accuracy"} <= set(result["history"])


def test_transfer_learning_keeps_the_frozen_base_unchanged():
    # torch only, and tiny: the program's full run (about 20 s on a CPU) and jax's compile of MobileNetV2 are
    # too slow for the suite; this checks what freezing promises on the smallest sizes.
    from lamina import backend

    with backend.use("torch"):
        result = run_example("transfer_learning", images=48, pretrain_epochs=0, epochs=1, fine_tune_epochs=1,
                             verbose=0)
    before, after_head, after_tuning = (result[key] for key in ("base_before", "base_after_head",
                                                                "base_after_fine_tuning"))
    assert any(path.endswith("moving_variance") for path in before) and len(before) == len(after_head)
    for path, value in before.items():  # every weight and BatchNormalization statistic, bit for bit
        np.testing.assert_array_equal(after_head[path], value, err_msg=path)
    changed = {path for path in before if not np.array_equal(after_tuning[path], before[path])}
    assert {"block_16_project/kernel", "Conv_1/kernel", "block_15_expand/kernel"} <= changed
    assert all(path.startswith(("block_15_", "block_16_", "Conv_1")) for path in changed)
    assert not any(path.endswith(("moving_mean", "moving_variance")) for path in changed)
    assert result["trainable_layers"] == 12 and len(result["head_history"]["loss"]) == 1


@pytest.mark.parametrize("recurrent", ["lstm", "simple_rnn"])
def test_imdb_recurrent(training_backend, recurrent):
    result = run_example("imdb_recurrent", recurrent=recurrent)
    assert loss_went_down(result["history"])
    assert result["accuracy"] > 0.6


def test_custom_layer_trains(training_backend):
    result = run_example("custom_layer")
    assert loss_went_down(result["history"])
    assert result["loss"] < 0.1 * result["history"]["loss"][0]


def test_fit_generator_and_fit_with_generator(training_backend):
    result = run_example("generator_fit")
    assert len(result["fit_generator"]["loss"]) == 10
    assert result["fit"]["loss"][-1] < result["fit_generator"]["loss"][0]
    assert result["score"][1] > 0.8


def test_functional_two_inputs_two_outputs(training_backend):
    result = run_example("functional_two_heads")
    history = result["history"]
    assert {"loss", "score_loss", "label_loss", "label_accuracy"} <= set(history)
    assert loss_went_down(history)
    assert result["evaluate"]["label_accuracy"] > 0.8


def test_distributed_mnist_in_one_process(training_backend):
    # One process, the local devices (jax) or no torchrun (torch); tests/distribution launch several.
    from lamina import distribution

    result = run_example("distributed_mnist", epochs=2, samples=1024)
    assert loss_went_down(result["history"]) and result["accuracy"] > 0.9
    assert result["replicas"] == 1 and distribution.distribution() is None
