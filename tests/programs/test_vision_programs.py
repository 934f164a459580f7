"""Programs in the style of the keras.io vision examples, on small synthetic data: a convolutional
denoising autoencoder, a small CNN classifier, and a Vision-Transformer-like classifier built from
patches, position embeddings and augmentation layers. Each runs on torch and jax and learns."""

from __future__ import annotations

import numpy as np

import lamina
from lamina import layers, ops

RNG = np.random.default_rng(7)


def learned(history) -> bool:
    return history.history["loss"][-1] < history.history["loss"][0]


def test_denoising_autoencoder_with_transposed_convolutions(training_backend: str) -> None:
    clean = RNG.random((48, 16, 16, 1)).astype("float32")
    noisy = np.clip(clean + 0.3 * RNG.normal(size=clean.shape), 0.0, 1.0).astype("float32")
    image = lamina.Input(shape=(16, 16, 1))
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(image)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    restored = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    autoencoder = lamina.Model(image, restored)
    assert autoencoder.output_shape == (None, 16, 16, 1)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    history = autoencoder.fit(noisy, clean, epochs=3, batch_size=16, validation_data=(noisy, clean), verbose=0)
    assert learned(history) and "val_loss" in history.history
    assert autoencoder.predict(noisy[:5], verbose=0).shape == (5, 16, 16, 1)


def test_upsampling_decoder_and_batch_normalized_classifier(training_backend: str) -> None:
    images = RNG.random((64, 12, 12, 1)).astype("float32")
    labels = (images.mean(axis=(1, 2, 3)) > 0.5).astype("int32")
    model = lamina.Sequential([
        lamina.Input((12, 12, 1)),
        layers.Conv2D(8, 3, padding="same"), layers.BatchNormalization(), layers.ReLU(),
        layers.MaxPooling2D(2), layers.UpSampling2D(2), layers.Conv2D(4, 3, activation="relu"),
        layers.GlobalAveragePooling2D(), layers.Dropout(0.2), layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(images, labels, epochs=4, batch_size=16, verbose=0)
    assert learned(history)
    moving_mean = model.layers[1].moving_mean.numpy()
    assert np.any(moving_mean != 0.0)  # fit updated the moving statistics


class PatchExtractor(layers.Layer):
    """Cuts images into flattened square patches."""

    def __init__(self, size: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.size = size

    def call(self, images):
        batch, height, width, channels = ops.shape(images)
        patches = lamina.ops.image.extract_patches(images, size=self.size)
        count = (height // self.size) * (width // self.size)
        return ops.reshape(patches, (batch, count, self.size * self.size * channels))

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size}


class PositionedProjection(layers.Layer):
    """A dense projection of each patch plus a learned embedding of its position."""

    def __init__(self, count: int, width: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.count = count
        self.projection = layers.Dense(width)
        self.positions = layers.Embedding(count, width)

    def call(self, patches):
        where = ops.expand_dims(ops.arange(0, self.count, 1), axis=0)
        return self.projection(patches) + self.positions(where)


def test_vision_transformer_with_augmentation(training_backend: str) -> None:
    images = RNG.integers(0, 255, (24, 16, 16, 3)).astype("float32")
    labels = RNG.integers(0, 4, (24, 1))
    augment = lamina.Sequential([layers.Normalization(), layers.Resizing(12, 12), layers.RandomFlip("horizontal"),
                                 layers.RandomRotation(0.02), layers.RandomZoom(0.2, 0.2)], name="augment")
    augment.layers[0].adapt(images)
    inputs = lamina.Input((16, 16, 3))
    tokens = PositionedProjection(9, 16)(PatchExtractor(4)(augment(inputs)))
    for _ in range(1):
        normed = layers.LayerNormalization(epsilon=1e-6)(tokens)
        attended = layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.1)(normed, normed)
        mixed = layers.Add()([attended, tokens])
        hidden = layers.Dense(16, activation=lamina.activations.gelu)(layers.LayerNormalization(epsilon=1e-6)(mixed))
        tokens = layers.Add()([layers.Dropout(0.1)(hidden), mixed])
    features = layers.Dropout(0.3)(layers.Flatten()(layers.LayerNormalization(epsilon=1e-6)(tokens)))
    model = lamina.Model(inputs, layers.Dense(4)(features))
    model.compile(optimizer=lamina.optimizers.Adam(3e-3),
                  loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[lamina.metrics.SparseCategoricalAccuracy(name="accuracy")])
    history = model.fit(images, labels, batch_size=8, epochs=6, verbose=0)
    assert learned(history)
    assert 0.0 <= history.history["accuracy"][-1] <= 1.0
