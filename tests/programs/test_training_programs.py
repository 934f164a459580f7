"""Training programs in the shape of keras.io's examples, with small synthetic data: callbacks that save the best
model and lower the learning rate, a reload of the best file, and the usual evaluate at the end."""

from __future__ import annotations

import numpy as np

import lamina
from lamina import layers


def series_classifier(length: int) -> lamina.Model:
    """A small 1-D convolutional classifier of univariate series, as the time-series examples build one."""
    inputs = lamina.Input(shape=(length, 1))
    x = inputs
    for _ in range(2):
        x = layers.Conv1D(filters=8, kernel_size=3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling1D()(x)
    return lamina.Model(inputs, layers.Dense(2, activation="softmax")(x))


def test_series_classification_with_checkpoint_plateau_and_early_stopping(training_backend, tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 160)
    series = (rng.normal(size=(160, 32)) + labels[:, None] * np.sin(np.linspace(0, 6, 32))).astype("float32")
    x, y = series[..., None], labels
    model = series_classifier(32)
    model.compile(optimizer=lamina.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    best = tmp_path / "best_model.keras"
    callbacks = [lamina.callbacks.ModelCheckpoint(str(best), save_best_only=True, monitor="val_loss"),
                 lamina.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=1e-4),
                 lamina.callbacks.EarlyStopping(monitor="val_loss", patience=3, verbose=0)]
    history = model.fit(x, y, batch_size=32, epochs=6, validation_split=0.2, callbacks=callbacks, verbose=0)
    logs = history.history
    assert {"loss", "sparse_categorical_accuracy", "val_loss", "val_sparse_categorical_accuracy",
            "learning_rate"} <= set(logs)
    assert logs["loss"][-1] < logs["loss"][0]
    assert all(later <= earlier for earlier, later in zip(logs["learning_rate"], logs["learning_rate"][1:]))
    reloaded = lamina.models.load_model(str(best))
    best_epoch = int(np.argmin(logs["val_loss"]))
    validation = slice(128, 160)  # validation_split takes the last fifth
    loss, _ = reloaded.evaluate(x[validation], y[validation], verbose=0)
    np.testing.assert_allclose(loss, logs["val_loss"][best_epoch], rtol=1e-4)
