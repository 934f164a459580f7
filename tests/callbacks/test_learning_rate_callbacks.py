"""LearningRateScheduler and ReduceLROnPlateau: driven by hand for their logic, and inside fit on torch and jax
for the learning rate the optimizer actually uses."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import callbacks, layers, models, optimizers
from lamina.callbacks import CallbackList, LearningRateScheduler, ReduceLROnPlateau

F32 = np.float32  # the optimizer holds its learning rate in float32


# --- inside fit -------------------------------------------------------------------------------------------

def steady_climb_model(learning_rate: float) -> models.Model:
    """One weight w, one step per epoch, loss mean|w - 1000|: each step adds exactly the learning rate to w,
    so the weight's change over an epoch is the learning rate the optimizer used in it."""
    model = models.Sequential([layers.Input((1,)), layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer=optimizers.SGD(learning_rate), loss="mae")
    return model


class RateRecorder(callbacks.Callback):
    """Per epoch: the optimizer's learning rate, and the learning rate its step applied (the weight's change)."""

    def __init__(self) -> None:
        super().__init__()
        self.rates: list[float] = []
        self.applied: list[float] = []
        self._weight = 0.0

    def on_epoch_end(self, epoch, logs=None):
        weight = float(self.model.get_weights()[0][0, 0])
        self.rates.append(float(self.model.optimizer.learning_rate))
        self.applied.append(weight - self._weight)
        self._weight = weight


def fit(model: models.Model, epochs: int, *extra: callbacks.Callback) -> tuple[dict, RateRecorder]:
    recorder = RateRecorder()
    history = model.fit(np.ones((4, 1), "float32"), np.full((4, 1), 1000.0, "float32"), batch_size=4,
                        epochs=epochs, verbose=0, shuffle=False, callbacks=[*extra, recorder])
    return history.history, recorder


def test_scheduler_sets_the_rate_each_epoch_uses(training_backend):
    model = steady_climb_model(0.1)
    history, recorder = fit(model, 4, LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr))
    expected = [F32(0.1)]
    for _ in range(3):
        expected.append(F32(float(expected[-1]) * 0.5))
    np.testing.assert_allclose(recorder.rates, expected, rtol=1e-7)
    np.testing.assert_allclose(recorder.applied, expected, rtol=1e-4)
    assert history["learning_rate"] == [float(rate) for rate in expected]
    assert len(history["loss"]) == 4


def test_scheduler_with_a_one_argument_function(training_backend):
    model = steady_climb_model(0.5)
    history, recorder = fit(model, 3, LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)))
    expected = [float(F32(0.1 / (epoch + 1))) for epoch in range(3)]
    assert history["learning_rate"] == expected
    np.testing.assert_allclose(recorder.applied, expected, rtol=1e-4)


def test_plateau_reduces_the_rate_used_with_cooldown_and_min_lr(training_backend):
    """A fake val_loss written before the callback reads it: reductions after `patience` flat epochs, a
    cooldown epoch after each, and never below min_lr."""
    val_losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    fake = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(val_loss=val_losses[epoch]))
    plateau = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.02)
    model = steady_climb_model(0.1)
    history, recorder = fit(model, len(val_losses), fake, plateau)
    # Reductions at the end of epochs 3 and 5 (patience 2, then one cooldown epoch), and at 9 down to min_lr;
    # the logs hold the rate each epoch ran with.
    used = [0.1] * 4 + [F32(0.1) * 0.5] * 2 + [F32(F32(0.1) * 0.5) * 0.5] * 4 + [F32(0.02)] * 3
    np.testing.assert_allclose(history["learning_rate"], used, rtol=1e-6)
    np.testing.assert_allclose(recorder.applied, used, rtol=1e-4)
    np.testing.assert_allclose(recorder.rates, used[1:] + [F32(0.02)], rtol=1e-6)
    assert history["val_loss"] == val_losses


# --- driven by hand -------------------------------------------------------------------------------------------

class FakeOptimizer:
    def __init__(self, learning_rate: float, name: str = "sgd") -> None:
        self.learning_rate = float(F32(learning_rate))
        self.name = name


class FakeModel:
    def __init__(self, optimizer) -> None:
        self.optimizer = optimizer
        self.stop_training = False


def drive(callback: callbacks.Callback, model, values: list[float], monitor: str = "val_loss") -> list[dict]:
    """Run the epoch hooks as fit does; return each epoch's logs as the callbacks after it see them."""
    all_logs: list[dict] = []
    seen = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: all_logs.append(dict(logs)))
    hooks = CallbackList([callback, seen], model=model)
    hooks.on_train_begin()
    for epoch, value in enumerate(values):
        hooks.on_epoch_begin(epoch)
        hooks.on_epoch_end(epoch, {"loss": 1.0, monitor: value})
    hooks.on_train_end()
    return all_logs


def test_plateau_in_max_mode_from_an_accuracy_name():
    model = FakeModel(FakeOptimizer(1.0))
    plateau = ReduceLROnPlateau(monitor="val_accuracy", factor=0.1, patience=1, min_delta=0.01)
    logs = drive(plateau, model, [0.5, 0.6, 0.605, 0.7, 0.7], monitor="val_accuracy")
    # 0.605 is within min_delta of 0.6: no improvement, so the rate drops after that epoch; 0.7 improves.
    assert [entry["learning_rate"] for entry in logs] == pytest.approx([1.0, 1.0, 1.0, 0.1, 0.1])
    assert model.optimizer.learning_rate == pytest.approx(0.01)


def test_plateau_min_mode_and_min_delta():
    model = FakeModel(FakeOptimizer(1.0))
    plateau = ReduceLROnPlateau(monitor="val_mae", mode="min", factor=0.5, patience=2, min_delta=0.1)
    drive(plateau, model, [1.0, 0.95, 0.92, 0.5, 0.45], monitor="val_mae")
    # 0.95 and 0.92 improve by less than min_delta: reduced after epoch 2; 0.5 improves; 0.45 does not.
    assert model.optimizer.learning_rate == pytest.approx(0.5)
    assert plateau.best == 0.5 and plateau.wait == 1


def test_plateau_state_restarts_with_each_fit():
    model = FakeModel(FakeOptimizer(1.0))
    plateau = ReduceLROnPlateau(patience=1)
    drive(plateau, model, [0.1, 0.2])
    assert model.optimizer.learning_rate == pytest.approx(0.1)
    drive(plateau, model, [0.5])  # a new fit: the first value is the new best, not compared with 0.1
    assert plateau.best == 0.5 and model.optimizer.learning_rate == pytest.approx(0.1)


def test_plateau_verbose_prints_the_reduction(capsys):
    model = FakeModel(FakeOptimizer(1.0))
    drive(ReduceLROnPlateau(patience=0, verbose=1), model, [1.0, 1.0])  # the first value is always the best
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.1" in capsys.readouterr().out


def test_plateau_warns_about_a_missing_metric_and_still_logs_the_rate():
    model = FakeModel(FakeOptimizer(0.25))
    with pytest.warns(UserWarning, match="`val_auc` which is not available. Available metrics are: auc,loss,learning_rate"):
        logs = drive(ReduceLROnPlateau(monitor="val_auc"), model, [0.5], monitor="auc")
    assert logs[0]["learning_rate"] == 0.25


def test_plateau_arguments():
    plateau = ReduceLROnPlateau()
    assert (plateau.monitor, plateau.factor, plateau.patience, plateau.verbose, plateau.mode, plateau.min_delta,
            plateau.cooldown, plateau.min_lr) == ("val_loss", 0.1, 10, 0, "auto", 1e-4, 0, 0.0)
    with pytest.raises(ValueError, match="factor >= 1.0. Received factor=1.5"):
        ReduceLROnPlateau(factor=1.5)
    with pytest.warns(UserWarning, match="mode 'largest' is unknown"):
        assert ReduceLROnPlateau(mode="largest").mode == "auto"
    assert ReduceLROnPlateau(epsilon=0.5).min_delta == 0.5  # the Keras 2 name
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        ReduceLROnPlateau(pateince=3)


def test_scheduler_errors_and_verbose(capsys):
    model = FakeModel(FakeOptimizer(0.5))
    drive(LearningRateScheduler(lambda epoch, lr: lr / 2, verbose=1), model, [0.0])
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.25." in capsys.readouterr().out
    with pytest.raises(ValueError, match="should be a float. Got: 'fast'"):
        drive(LearningRateScheduler(lambda epoch: "fast"), model, [0.0])
    with pytest.raises(TypeError, match="schedule must be a function"):
        LearningRateScheduler(0.1)


def test_scheduler_does_not_hide_a_type_error_raised_by_the_schedule():
    def schedule(epoch, lr):
        return lr + "oops"

    with pytest.raises(TypeError, match="unsupported operand"):
        drive(LearningRateScheduler(schedule), FakeModel(FakeOptimizer(0.5)), [0.0])


def test_each_optimizer_of_a_multi_optimizer():
    class Multi:
        def __init__(self):
            self.optimizers = [FakeOptimizer(1.0, "body"), FakeOptimizer(0.5, "head")]

    model = FakeModel(Multi())
    logs = drive(LearningRateScheduler(lambda epoch, lr: lr * 0.1), model, [0.0])
    assert logs[0]["learning_rate_body"] == pytest.approx(0.1)
    assert logs[0]["learning_rate_head"] == pytest.approx(0.05)


def test_plateau_auto_mode_needs_a_known_direction():
    model = FakeModel(FakeOptimizer(1.0))
    with pytest.raises(ValueError, match="mode='max'"):
        drive(ReduceLROnPlateau(monitor="val_custom"), model, [1.0], monitor="val_custom")
    drive(ReduceLROnPlateau(monitor="val_custom", mode="max", patience=1), model, [1.0, 0.5], monitor="val_custom")
    assert model.optimizer.learning_rate == pytest.approx(0.1)
