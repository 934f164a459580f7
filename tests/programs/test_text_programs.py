"""Programs in the style of the keras.io text and sequence examples, on small synthetic data: a stacked
bidirectional LSTM classifier, a Transformer text classifier written as subclassed layers, a timeseries
Transformer built with the functional API, and a character-level sequence-to-sequence model whose
inference encoder and decoder are rebuilt from the trained (and reloaded) model's layers."""

from __future__ import annotations

import numpy as np

import lamina
from lamina import layers, ops

RNG = np.random.default_rng(11)


def learned(history) -> bool:
    return history.history["loss"][-1] < history.history["loss"][0]


def test_stacked_bidirectional_lstm_classifier(training_backend: str) -> None:
    tokens = RNG.integers(1, 500, (64, 20))
    tokens[:, :4] = 0  # padded at the front
    labels = RNG.integers(0, 2, (64,))
    inputs = lamina.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(500, 8, mask_zero=True)(inputs)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(8))(x)
    model = lamina.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(tokens, labels, batch_size=16, epochs=3, validation_data=(tokens, labels), verbose=0)
    assert learned(history)
    assert model.predict(tokens[:3], verbose=0).shape == (3, 1)


class EncoderBlock(layers.Layer):
    """Self-attention and a feed-forward network, each with dropout, a residual and layer normalization."""

    def __init__(self, width: int, heads: int, hidden: int, rate: float = 0.1) -> None:
        super().__init__()
        self.attention = layers.MultiHeadAttention(num_heads=heads, key_dim=width)
        self.feed_forward = lamina.Sequential([layers.Dense(hidden, activation="relu"), layers.Dense(width)])
        self.first_norm, self.second_norm = layers.LayerNormalization(epsilon=1e-6), layers.LayerNormalization(epsilon=1e-6)
        self.first_drop, self.second_drop = layers.Dropout(rate), layers.Dropout(rate)

    def call(self, inputs, training=False):
        attended = self.first_drop(self.attention(inputs, inputs), training=training)
        middle = self.first_norm(inputs + attended)
        return self.second_norm(middle + self.second_drop(self.feed_forward(middle), training=training))


class TokenAndPosition(layers.Layer):
    """Token embeddings plus embeddings of their positions."""

    def __init__(self, length: int, vocabulary: int, width: int) -> None:
        super().__init__()
        self.tokens = layers.Embedding(vocabulary, width)
        self.positions = layers.Embedding(length, width)

    def call(self, x):
        where = ops.arange(start=0, stop=ops.shape(x)[-1], step=1)
        return self.tokens(x) + self.positions(where)


def test_transformer_text_classifier(training_backend: str) -> None:
    tokens = RNG.integers(0, 300, (64, 24))
    labels = (tokens[:, 0] > 150).astype("int32")
    inputs = layers.Input(shape=(24,))
    x = EncoderBlock(16, 2, 16)(TokenAndPosition(24, 300, 16)(inputs))
    x = layers.Dropout(0.1)(layers.GlobalAveragePooling1D()(x))
    x = layers.Dropout(0.1)(layers.Dense(8, activation="relu")(x))
    model = lamina.Model(inputs=inputs, outputs=layers.Dense(2, activation="softmax")(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(tokens, labels, batch_size=16, epochs=4, verbose=0)
    assert learned(history)


def encoder_block(inputs, key_dim: int, heads: int, hidden: int, dropout: float):
    """A pre-norm-free encoder block written on KerasTensors: residuals are plain `+`."""
    x = layers.MultiHeadAttention(key_dim=key_dim, num_heads=heads, dropout=dropout)(inputs, inputs)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Dropout(dropout)(x))
    residual = x + inputs
    x = layers.Conv1D(filters=hidden, kernel_size=1, activation="relu")(residual)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(layers.Dropout(dropout)(x))
    return layers.LayerNormalization(epsilon=1e-6)(x) + residual


def test_timeseries_transformer_classifier(training_backend: str) -> None:
    series = RNG.normal(size=(48, 30, 1)).astype("float32")
    labels = (series.mean(axis=(1, 2)) > 0).astype("int32")
    inputs = lamina.Input(shape=series.shape[1:])
    x = encoder_block(inputs, key_dim=8, heads=2, hidden=4, dropout=0.1)
    x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
    x = layers.Dropout(0.2)(layers.Dense(8, activation="relu")(x))
    model = lamina.Model(inputs, layers.Dense(2, activation="softmax")(x))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=lamina.optimizers.Adam(learning_rate=1e-3),
                  metrics=["sparse_categorical_accuracy"])
    stop = lamina.callbacks.EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)
    history = model.fit(series, labels, epochs=3, batch_size=12, callbacks=[stop], verbose=0)
    assert learned(history)
    assert 0.0 <= history.history["sparse_categorical_accuracy"][-1] <= 1.0


def test_character_sequence_to_sequence_with_inference_models(training_backend: str, tmp_path) -> None:
    source_tokens, target_tokens, latent = 9, 11, 16
    source = np.eye(source_tokens, dtype="float32")[RNG.integers(0, source_tokens, (40, 7))]
    target_in = np.eye(target_tokens, dtype="float32")[RNG.integers(0, target_tokens, (40, 8))]
    target_out = np.roll(target_in, -1, axis=1)
    encoder_inputs = lamina.Input(shape=(None, source_tokens))
    _, state_h, state_c = layers.LSTM(latent, return_state=True)(encoder_inputs)
    decoder_inputs = lamina.Input(shape=(None, target_tokens))
    decoded, _, _ = layers.LSTM(latent, return_sequences=True, return_state=True)(
        decoder_inputs, initial_state=[state_h, state_c])
    probabilities = layers.Dense(target_tokens, activation="softmax")(decoded)
    model = lamina.Model([encoder_inputs, decoder_inputs], probabilities)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit([source, target_in], target_out, batch_size=8, epochs=3, validation_split=0.2, verbose=0)
    assert learned(history)
    model.save(tmp_path / "translator.keras")
    model = lamina.models.load_model(tmp_path / "translator.keras")

    # Inference: the encoder's states, then one decoding step at a time from the same trained layers.
    _, encoded_h, encoded_c = model.layers[2].output
    encoder_model = lamina.Model(model.input[0], [encoded_h, encoded_c])
    state_inputs = [lamina.Input(shape=(latent,)), lamina.Input(shape=(latent,))]
    step_outputs, step_h, step_c = model.layers[3](model.input[1], initial_state=state_inputs)
    decoder_model = lamina.Model([model.input[1], *state_inputs], [model.layers[4](step_outputs), step_h, step_c])
    states = encoder_model.predict(source[:1], verbose=0)
    token = np.zeros((1, 1, target_tokens), "float32")
    token[0, 0, 0] = 1.0
    for _ in range(4):
        step, h, c = decoder_model.predict([token, *states], verbose=0)
        assert step.shape == (1, 1, target_tokens)
        token = np.eye(target_tokens, dtype="float32")[[int(np.argmax(step[0, -1]))]][None]
        states = [h, c]
    # The rebuilt decoder is the trained one: teacher-forced on the first step it gives the model's output.
    full = model.predict([source[:1], target_in[:1, :1]], verbose=0)
    first, _, _ = decoder_model.predict([target_in[:1, :1], *encoder_model.predict(source[:1], verbose=0)], verbose=0)
    np.testing.assert_allclose(first, full, atol=1e-5)
