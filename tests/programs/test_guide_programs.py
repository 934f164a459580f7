"""The patterns of Keras's developer guides, as a user tries them: the functional API, making new layers
and models by subclassing, working with RNNs, and masking and padding. Each runs on torch and jax."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend, layers, ops

RNG = np.random.default_rng(3)


def as_numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


# --- the functional API --------------------------------------------------------------------------------


def small_encoder():
    image = lamina.Input(shape=(12, 12, 1), name="img")
    x = layers.Conv2D(4, 3, activation="relu")(image)
    x = layers.MaxPooling2D(2)(x)
    code = layers.GlobalMaxPooling2D()(layers.Conv2D(16, 3, activation="relu")(x))
    return lamina.Model(image, code, name="encoder")


def test_functional_models_nest_share_layers_and_extract_features(training_backend: str) -> None:
    encoder = small_encoder()
    code = lamina.Input(shape=(16,), name="code")
    x = layers.Conv2DTranspose(4, 3, activation="relu")(layers.Reshape((4, 4, 1))(code))
    x = layers.UpSampling2D(2)(x)
    decoder = lamina.Model(code, layers.Conv2DTranspose(1, 5, activation="relu")(x), name="decoder")
    image = lamina.Input(shape=(12, 12, 1))
    autoencoder = lamina.Model(image, decoder(encoder(image)), name="autoencoder")
    assert autoencoder.output_shape == (None, 16, 16, 1)
    assert autoencoder.predict(RNG.random((2, 12, 12, 1)).astype("float32"), verbose=0).shape == (2, 16, 16, 1)

    members = [lamina.Model(i, layers.Dense(1)(i)) for i in [lamina.Input((6,)) for _ in range(3)]]
    shared_input = lamina.Input((6,))
    ensemble = lamina.Model(shared_input, layers.average([m(shared_input) for m in members]))
    x = RNG.random((4, 6)).astype("float32")
    np.testing.assert_allclose(ensemble.predict(x, verbose=0),
                               np.mean([m.predict(x, verbose=0) for m in members], axis=0), atol=1e-5)

    chain = lamina.Sequential([lamina.Input((8, 8, 3)), layers.Conv2D(4, 3, name="conv"), layers.Flatten(name="flat"),
                               layers.Dense(2, name="dense")])
    extractor = lamina.Model(inputs=chain.input, outputs=[layer.output for layer in chain.layers])
    features = extractor(RNG.random((2, 8, 8, 3)).astype("float32"))
    assert [tuple(ops.shape(f)) for f in features] == [(2, 6, 6, 4), (2, 144), (2, 2)]
    hidden = lamina.Model(inputs=chain.input, outputs=chain.get_layer("flat").output)
    assert hidden.output_shape == (None, 144)


def test_multiple_inputs_and_named_outputs_with_weighted_losses(training_backend: str) -> None:
    title, body, tags = lamina.Input((None,), name="title"), lamina.Input((None,), name="body"), lamina.Input((5,), name="tags")
    words = layers.Embedding(50, 8)
    features = layers.concatenate([layers.LSTM(8)(words(title)), layers.LSTM(4)(words(body)), tags])
    model = lamina.Model([title, body, tags], {"priority": layers.Dense(1, name="priority")(features),
                                               "department": layers.Dense(3, name="department")(features)})
    model.compile(optimizer=lamina.optimizers.RMSprop(1e-3),
                  loss={"priority": lamina.losses.BinaryCrossentropy(from_logits=True),
                        "department": lamina.losses.CategoricalCrossentropy(from_logits=True)},
                  loss_weights={"priority": 1.0, "department": 0.2})
    data = {"title": RNG.integers(50, size=(32, 6)), "body": RNG.integers(50, size=(32, 9)),
            "tags": RNG.integers(2, size=(32, 5)).astype("float32")}
    targets = {"priority": RNG.random((32, 1)), "department": RNG.integers(2, size=(32, 3))}
    history = model.fit(data, targets, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# --- making new layers and models by subclassing ----------------------------------------------------------


class RunningSum(layers.Layer):
    """A layer with a non-trainable weight that it updates when called."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(width,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


class Penalized(layers.Layer):
    """Passes its input on and adds a loss proportional to its mean."""

    def call(self, inputs):
        self.add_loss(0.01 * ops.mean(inputs))
        return inputs


class Sampler(layers.Layer):
    """Draws z = mean + exp(log_variance / 2) * noise from its own seed generator."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seed_generator = lamina.random.SeedGenerator(1337)

    def call(self, inputs):
        mean, log_variance = inputs
        noise = lamina.random.normal(shape=ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_variance) * noise


class VariationalAutoencoder(lamina.Model):
    def __init__(self, width: int, latent: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hidden = layers.Dense(16, activation="relu")
        self.mean, self.log_variance = layers.Dense(latent), layers.Dense(latent)
        self.sampler = Sampler()
        self.decoder = lamina.Sequential([layers.Dense(16, activation="relu"), layers.Dense(width, activation="sigmoid")])

    def call(self, inputs):
        h = self.hidden(inputs)
        mean, log_variance = self.mean(h), self.log_variance(h)
        self.add_loss(-0.5 * ops.mean(log_variance - ops.square(mean) - ops.exp(log_variance) + 1))
        return self.decoder(self.sampler((mean, log_variance)))


def test_subclassed_layers_and_models(training_backend: str) -> None:
    counter = RunningSum(2)
    counter(ops.ones((2, 2)))
    np.testing.assert_allclose(as_numpy(counter(ops.ones((2, 2)))), [4.0, 4.0])
    assert counter.trainable_weights == [] and len(counter.non_trainable_weights) == 1

    penalized = Penalized()
    penalized(ops.ones((1, 1)))
    penalized(ops.ones((1, 1)))
    assert len(penalized.losses) == 1  # reset at each top-level call

    inputs = lamina.Input((3,))
    model = lamina.Model(inputs, Penalized()(inputs))
    model.compile(optimizer="adam")  # no compiled loss: the added loss alone is minimized
    model.fit(RNG.random((8, 3)), epochs=1, verbose=0)

    x = RNG.random((64, 12)).astype("float32")
    vae = VariationalAutoencoder(12, 4)
    vae.compile(lamina.optimizers.Adam(1e-2), loss=lamina.losses.MeanSquaredError())
    history = vae.fit(x, x, epochs=4, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]

    features = lamina.Input((12,))
    h = layers.Dense(8, activation="relu")(features)
    mean, log_variance = layers.Dense(2)(h), layers.Dense(2)(h)
    z = Sampler()((mean, log_variance))
    functional_vae = lamina.Model(features, layers.Dense(12)(z))
    functional_vae.add_loss(-0.5 * ops.mean(log_variance - ops.square(mean) - ops.exp(log_variance) + 1))
    functional_vae.compile("adam", loss="mse")
    functional_vae.fit(x, x, epochs=1, batch_size=16, verbose=0)


# --- working with RNNs ---------------------------------------------------------------------------------


class PairCell(layers.Layer):
    """A user-written cell with two inputs and two states of different shapes."""

    def __init__(self, first: int, second: tuple[int, int], **kwargs) -> None:
        super().__init__(**kwargs)
        self.first, self.second = first, second
        self.state_size = [(first,), second]
        self.output_size = [(first,), second]

    def build(self, input_shapes):
        (_, width), (_, rows, columns) = input_shapes
        self.kernel = self.add_weight(shape=(width, self.first), initializer="uniform", name="kernel")
        self.grid = self.add_weight(shape=(rows, columns, *self.second), initializer="uniform", name="grid")

    def call(self, inputs, states):
        vector, matrix = inputs
        out_vector = ops.matmul(vector, self.kernel)
        out_matrix = ops.einsum("bij,ijkl->bkl", matrix, self.grid)
        return (out_vector, out_matrix), (states[0] + out_vector, states[1] + out_matrix)


def test_recurrent_layers_as_the_rnn_guide_uses_them(training_backend: str) -> None:
    sequences = RNG.random((16, 7, 5)).astype("float32")
    labels = RNG.integers(0, 3, (16,))
    fused = lamina.Sequential([lamina.Input((None, 5)), layers.LSTM(8), layers.BatchNormalization(), layers.Dense(3)])
    generic = lamina.Sequential([lamina.Input((None, 5)), layers.RNN(layers.LSTMCell(8)), layers.BatchNormalization(),
                                 layers.Dense(3)])
    generic.set_weights(fused.get_weights())
    np.testing.assert_allclose(fused.predict(sequences, verbose=0), generic.predict(sequences, verbose=0), atol=1e-5)
    for model in (fused, generic):
        model.compile(loss=lamina.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd")
        model.fit(sequences, labels, batch_size=8, epochs=1, verbose=0)

    stateful = layers.LSTM(4, stateful=True)
    first = as_numpy(stateful(sequences[:4]))
    continued = as_numpy(stateful(sequences[:4]))
    assert not np.allclose(first, continued)  # the second call starts from the first call's states
    stateful.reset_states()
    np.testing.assert_allclose(as_numpy(stateful(sequences[:4])), first, atol=1e-6)

    stacked = lamina.Sequential([lamina.Input((7, 5)), layers.Bidirectional(layers.LSTM(6, return_sequences=True)),
                                 layers.Bidirectional(layers.GRU(3)), layers.Dense(2)])
    assert stacked.output_shape == (None, 2)

    vectors, matrices = lamina.Input((None, 4)), lamina.Input((None, 3, 2))
    model = lamina.Model([vectors, matrices], layers.RNN(PairCell(5, (2, 3)))((vectors, matrices)))
    model.compile(optimizer="adam", loss="mse")
    model.fit([RNG.random((8, 6, 4)), RNG.random((8, 6, 3, 2))], [RNG.random((8, 5)), RNG.random((8, 2, 3))],
              batch_size=4, epochs=1, verbose=0)


# --- masking and padding ----------------------------------------------------------------------------------


class SplitInTime(layers.Layer):
    def call(self, inputs):
        return ops.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else ops.split(mask, 2, axis=1)


class MaskedSoftmax(layers.Layer):
    """A softmax over the unmasked steps only; it receives the mask through its `mask` argument."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        weights = ops.expand_dims(ops.cast(mask, "float32"), -1)
        exponentials = ops.exp(inputs) * weights
        return exponentials / ops.sum(exponentials, axis=1, keepdims=True)


def test_masks_from_padding_flow_through_layers(training_backend: str) -> None:
    padded = lamina.utils.pad_sequences([[7, 6, 1], [7, 3, 2, 5, 9], [8, 9, 1, 6, 2, 9]], padding="post")
    embedding = layers.Embedding(input_dim=10, output_dim=4, mask_zero=True)
    expected = padded != 0
    np.testing.assert_array_equal(as_numpy(embedding.compute_mask(padded)), expected)

    inputs = lamina.Input(shape=(6,), dtype="int32")
    x = layers.Embedding(input_dim=10, output_dim=4, mask_zero=True)(inputs)
    first, second = SplitInTime()(x)
    assert first._keras_mask.shape == (None, 3) and second._keras_mask.shape == (None, 3)
    scores = MaskedSoftmax()(layers.Dense(1)(x))
    model = lamina.Model(inputs, scores)
    weights = model.predict(padded, verbose=0)[..., 0]
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(weights[~expected], 0.0)

    # An LSTM after Masking ignores the padded steps: padding more changes nothing.
    values = RNG.random((2, 4, 3)).astype("float32")
    values[0, 2:] = 0.0
    longer = np.concatenate([values, np.zeros((2, 3, 3), "float32")], axis=1)
    sequence = lamina.Sequential([lamina.Input((None, 3)), layers.Masking(mask_value=0.0), layers.LSTM(5)])
    np.testing.assert_allclose(sequence.predict(values, verbose=0), sequence.predict(longer, verbose=0), atol=1e-5)
    np.testing.assert_allclose(sequence.predict(values[:1], verbose=0), sequence.predict(values[:1, :2], verbose=0),
                               atol=1e-5)
