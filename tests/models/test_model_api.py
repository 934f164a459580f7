"""What Keras users read off models and layers: inputs and outputs, shapes, feature extractors, models used as
layers (nested, seq2seq), subclasses with positional arguments, and freezing nested models."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend, layers
from lamina.layers import LSTM, Dense, Embedding, Input, InputLayer
from lamina.models import Model, Sequential, load_model, save_model

X = np.random.default_rng(5).standard_normal((6, 4)).astype("float32")


def predict(model, x):
    return model.predict(x, verbose=0)


def test_functional_inputs_outputs_and_shapes(training_backend):
    a, b = Input((4,), name="a"), Input((2,), name="b")
    hidden = Dense(3, name="hidden")(a)
    single = Model(a, hidden)
    assert single.input is a and single.output is hidden and single.inputs == [a] and single.outputs == [hidden]
    assert (single.input_shape, single.output_shape) == ((None, 4), (None, 3))
    double = Model(inputs=[a, b], outputs=[hidden, Dense(1)(b)], name="two")
    assert double.name == "two" and double.input == [a, b] and len(double.output) == 2
    assert double.input_shape == [(None, 4), (None, 2)] and double.output_shape == [(None, 3), (None, 1)]
    by_name = Model({"a": a, "b": b}, {"h": hidden, "s": layers.Concatenate()([hidden, b])})
    assert by_name.input == {"a": a, "b": b} and by_name.output_shape == {"h": (None, 3), "s": (None, 5)}
    result = by_name.predict({"a": X, "b": X[:, :2]}, verbose=0)
    assert set(result) == {"h", "s"} and result["s"].shape == (6, 5)
    positional = Model([a], [hidden], "positional")
    assert positional.name == "positional" and positional.input is a and positional.output is hidden


@pytest.mark.parametrize("start", ["input_shape", "input_dim", "Input", "InputLayer"])
def test_sequential_inputs_outputs_and_shapes(training_backend, start):
    first = {"input_shape": lambda: [Dense(3, input_shape=(4,))], "input_dim": lambda: [Dense(3, input_dim=4)],
             "Input": lambda: [Input((4,)), Dense(3)], "InputLayer": lambda: [InputLayer((4,)), Dense(3)]}[start]()
    model = Sequential([*first, Dense(2)])
    assert model.input_shape == (None, 4) and model.output_shape == (None, 2)
    assert model.inputs == [model.input] and model.outputs == [model.output] and model.output.shape == (None, 2)
    assert model.layers[0].output_shape == (None, 3) and model.layers[0].input_shape == (None, 4)
    assert model.layers[1].input is model.layers[0].output


def test_sequential_without_input_shape_has_none_until_built(training_backend):
    model = Sequential([Dense(3), Dense(2)], name="late")
    for attribute in ("input", "output", "inputs", "outputs", "input_shape", "output_shape"):
        with pytest.raises(AttributeError, match="Sequential model 'late' has no defined"):
            getattr(model, attribute)
    model.build((None, 4))
    assert model.input_shape == (None, 4) and model.output_shape == (None, 2)


def test_layer_input_and_output_of_its_calls(training_backend):
    layer = Dense(3, name="lonely")
    for attribute in ("input", "output", "input_shape", "output_shape"):
        with pytest.raises(AttributeError, match="lonely.*never been called"):
            getattr(layer, attribute)
    layer(backend.impl.convert_to_tensor(X))  # an eager call defines nothing
    with pytest.raises(AttributeError, match="never been called"):
        layer.output
    a, b = Input((4,)), Input((4,))
    first, second = layer(a), layer(b)
    assert layer.input is a and layer.output is first and layer.output_shape == (None, 3)
    layer(Input((5, 4)))  # a call on another shape makes the shape ambiguous, not the tensors
    assert layer.output is first
    with pytest.raises(AttributeError, match="several shapes"):
        layer.output_shape
    assert Input((7,), name="i")._history[0].input_shape == (None, 7)


def test_feature_extractors(training_backend):
    inputs = Input((4,))
    hidden = Dense(3, activation="relu", name="hidden")(inputs)
    model = Model(inputs, Dense(2, name="out")(hidden))
    extractor = Model(inputs=model.input, outputs=model.get_layer("hidden").output)
    kernel, bias = model.get_layer("hidden").get_weights()
    np.testing.assert_allclose(predict(extractor, X), np.maximum(X @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
    every = Model(model.inputs, [layer.output for layer in model.layers])
    got = predict(every, X)
    np.testing.assert_allclose(got[0], X)
    np.testing.assert_allclose(got[2], predict(model, X), rtol=1e-6)
    sequential = Sequential([Input((4,)), Dense(3, name="s1"), Dense(2, name="s2")])
    outs = predict(Model(sequential.inputs, [layer.output for layer in sequential.layers]), X)
    assert [o.shape for o in outs] == [(6, 3), (6, 2)]
    np.testing.assert_allclose(outs[1], predict(sequential, X), rtol=1e-6)


def test_models_as_layers_share_their_weights(training_backend):
    inner_sequential = Sequential([Input((4,)), Dense(3), Sequential([Dense(3), Dense(2)])])
    a = Input((4,))
    inner_functional = Model(a, Dense(2)(a))
    inputs = Input((4,))
    outputs = layers.Add()([inner_sequential(inputs), inner_functional(inputs)])
    outer = Model(inputs, Dense(1)(outputs))
    assert len(outer.weights) == len(inner_sequential.weights) + len(inner_functional.weights) + 2
    expected = predict(inner_sequential, X) + predict(inner_functional, X)
    kernel, bias = outer.layers[-1].get_weights()
    np.testing.assert_allclose(predict(outer, X), expected @ kernel + bias, rtol=1e-5, atol=1e-5)
    outer.compile("sgd", "mse")
    before = inner_sequential.get_weights()
    outer.fit(X, np.ones((6, 1)), epochs=1, verbose=0)
    assert any(not np.allclose(b, a) for b, a in zip(before, inner_sequential.get_weights()))


def test_seq2seq_inference_models_from_trained_layers(training_backend):
    rng = np.random.default_rng(0)
    source, target = rng.integers(1, 9, (8, 5)), rng.integers(1, 9, (8, 4))
    encoder_inputs = Input((None,), dtype="int32")
    _, state_h, state_c = LSTM(6, return_state=True)(Embedding(9, 4)(encoder_inputs))
    encoder_states = [state_h, state_c]
    decoder_inputs = Input((None,), dtype="int32")
    decoder_embedding, decoder_lstm, decoder_dense = Embedding(9, 4), LSTM(6, return_sequences=True,
                                                                            return_state=True), Dense(9, "softmax")
    sequence, _, _ = decoder_lstm(decoder_embedding(decoder_inputs), initial_state=encoder_states)
    model = Model([encoder_inputs, decoder_inputs], decoder_dense(sequence))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit([source, target], target, epochs=1, batch_size=4, verbose=0)

    encoder_model = Model(encoder_inputs, encoder_states)
    state_inputs = [Input((6,)), Input((6,))]
    step, h, c = decoder_lstm(decoder_embedding(decoder_inputs), initial_state=state_inputs)
    decoder_model = Model([decoder_inputs] + state_inputs, [decoder_dense(step), h, c])
    states = encoder_model.predict(source, verbose=0)
    full = predict(model, [source, target])
    for t in range(target.shape[1]):  # teacher-forced decoding, one step at a time, gives the training outputs
        probabilities, *states = decoder_model.predict([target[:, t:t + 1], *states], verbose=0)
        np.testing.assert_allclose(probabilities[:, 0], full[:, t], rtol=1e-4, atol=1e-5)


class Autoencoder(Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder

    def call(self, x):
        return self.decoder(self.encoder(x))


class Classifier(Model):
    """Functional, built in its own __init__ by passing inputs and outputs to Model."""

    def __init__(self, units, **kwargs):
        inputs = Input((4,))
        super().__init__(inputs, Dense(units, name="logits")(inputs), **kwargs)


def test_subclasses_with_positional_arguments(training_backend, tmp_path):
    model = Autoencoder(Dense(2), Dense(4), name="ae")
    model.compile("adam", "mse")
    model.fit(X, X, epochs=1, verbose=0)
    assert model.name == "ae" and predict(model, X).shape == (6, 4) and len(model.weights) == 4
    save_model(model, tmp_path / "ae.keras")
    loaded = load_model(tmp_path / "ae.keras", custom_objects={"Autoencoder": Autoencoder})
    assert isinstance(loaded.encoder, Dense) and loaded.encoder.units == 2 and loaded.name == "ae"
    np.testing.assert_allclose(predict(loaded, X), predict(model, X), rtol=1e-6)
    classifier = Classifier(3, name="clf")
    assert isinstance(classifier, Classifier) and classifier.name == "clf" and classifier.output_shape == (None, 3)
    assert predict(classifier, X).shape == (6, 3) and classifier.get_layer("logits").output_shape == (None, 3)


def test_freezing_a_nested_model_or_layer(training_backend):
    base = Sequential([Input((4,)), Dense(3), Dense(3)], name="base")
    inputs = Input((4,))
    model = Model(inputs, Dense(1, name="head")(base(inputs)))
    base.trainable = False
    assert all(not layer.trainable for layer in base.layers) and len(model.trainable_weights) == 2
    assert len(model.non_trainable_weights) == 4
    model.compile("sgd", "mse")
    frozen, head = base.get_weights(), model.get_layer("head").get_weights()
    model.fit(X, np.ones((6, 1)), epochs=1, verbose=0)
    assert all(np.array_equal(b, a) for b, a in zip(frozen, base.get_weights()))
    assert not np.allclose(head[0], model.get_layer("head").get_weights()[0])
    base.trainable, model.get_layer("head").trainable = True, False
    model.compile("sgd", "mse")
    model.fit(X, np.ones((6, 1)), epochs=1, verbose=0)
    assert not all(np.array_equal(b, a) for b, a in zip(frozen, base.get_weights()))


def test_clone_model_and_model_from_json(training_backend):
    from lamina import ops
    from lamina.models import clone_model, model_from_json

    inputs = Input((4,), name="x")
    hidden = Dense(3, name="hidden")(inputs)
    model = Model(inputs, ops.mean(hidden, axis=-1, keepdims=True) + Dense(1, name="skip")(inputs), name="m")
    clone = clone_model(model)
    assert clone.name == "m" and [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(predict(clone, X), predict(model, X), rtol=1e-6)
    calls = []
    other = Input((4,))
    renamed = clone_model(model, input_tensors=other, call_function=lambda layer, *a, **k: calls.append(layer.name)
                          or layer(*a, **k))
    assert renamed.input is other and calls == ["hidden", "skip"]
    sequential = Sequential([Input((4,)), Dense(2), Sequential([Dense(2)])])
    deep = clone_model(sequential, recursive=True)
    assert deep.input_shape == (None, 4) and deep.layers[1] is not sequential.layers[1]
    assert isinstance(deep.layers[1], Sequential)
    rebuilt = model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(predict(rebuilt, X), predict(model, X), rtol=1e-6)
    assert model_from_json(sequential.to_json()).output_shape == (None, 2)
    with pytest.raises(ValueError, match="model_from_json expects"):
        model_from_json("{not json")


def test_a_torch_optimizer_trains_a_model_through_its_parameters():
    """model.parameters() as torch's Module gives them: torch.optim steps the weights exactly as it steps
    a torch.nn.Linear holding the same numbers."""
    import torch

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(32, 5)).astype("float32"), rng.integers(0, 3, 32)
    with backend.use("torch"):
        model = lamina.Sequential([lamina.Input((5,)), lamina.layers.Dense(3)])
        linear = torch.nn.Linear(5, 3)
        with torch.no_grad():
            kernel, bias = model.get_weights()
            initial = kernel.copy()
            linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
            linear.bias.copy_(torch.from_numpy(bias))
        assert [name for name, _ in model.named_parameters()] == [w.path for w in model.weights]
        for net, parameters in ((model, model.parameters()), (linear, linear.parameters())):
            optimizer = torch.optim.SGD(parameters, lr=0.1, momentum=0.9)
            for _ in range(3):
                loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        kernel, bias = model.get_weights()
        np.testing.assert_allclose(kernel, linear.weight.detach().numpy().T, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bias, linear.bias.detach().numpy(), rtol=1e-5, atol=1e-6)
        assert not np.allclose(kernel, initial, atol=1e-3)  # the steps moved the weights


def test_parameters_on_jax_says_it_is_a_torch_method():
    with backend.use("jax"):
        model = lamina.Sequential([lamina.Input((5,)), lamina.layers.Dense(3)])
        with pytest.raises(AttributeError, match="torch backend only.*Use `.weights`"):
            list(model.parameters())
