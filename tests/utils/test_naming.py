"""Names: Keras's snake_case of class names, unique layer names, lookups that suggest the closest name."""

from __future__ import annotations

import pytest

from lamina import regularizers
from lamina.utils import naming


@pytest.mark.parametrize("class_name, snake", [
    ("Dense", "dense"),
    ("Conv2D", "conv2d"),
    ("MaxPooling2D", "max_pooling2d"),
    ("GlobalAveragePooling1D", "global_average_pooling1d"),
    ("LSTM", "lstm"),
    ("SimpleRNN", "simple_rnn"),
    ("MeanSquaredError", "mean_squared_error"),
    ("KLDivergence", "kl_divergence"),
    ("BatchNormalization", "batch_normalization"),
])
def test_to_snake_case_gives_keras_names(class_name: str, snake: str) -> None:
    assert naming.to_snake_case(class_name) == snake


def test_unique_name_counts_from_the_bare_name() -> None:
    base = "naming_test_unique_base"
    assert [naming.unique_name(base) for _ in range(3)] == [base, f"{base}_1", f"{base}_2"]
    assert naming.unique_name("naming_test_other_base") == "naming_test_other_base"  # counted per base


def test_layers_get_unique_default_names() -> None:
    from lamina.layers import Dense

    first, second = Dense(1), Dense(1)
    assert first.name != second.name
    assert first.name.startswith("dense") and second.name.startswith("dense")


TABLE = {"mean_squared_error": 1, "MeanSquaredError": 2, "mse": 3, "hinge": 4}


def test_lookup_exact_and_case_insensitive() -> None:
    assert naming.lookup("loss", "mse", TABLE) == 3
    assert naming.lookup("loss", "MeanSquaredError", TABLE) == 2
    assert naming.lookup("loss", "MSE", TABLE) == 3
    assert naming.lookup("loss", "HINGE", TABLE) == 4


def test_lookup_suggests_the_closest_names() -> None:
    with pytest.raises(ValueError) as raised:
        naming.lookup("loss", "mean_squared_eror", TABLE)
    message = str(raised.value)
    assert message.startswith("Unknown loss 'mean_squared_eror'.")
    assert "Did you mean 'mean_squared_error'" in message
    assert "Valid names include:" in message and "hinge" in message


def test_lookup_without_a_close_name_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError) as raised:
        naming.lookup("optimizer", "zzzzzzzz", TABLE)
    assert "Did you mean" not in str(raised.value)
    assert "Unknown optimizer 'zzzzzzzz'" in str(raised.value)


def _resolve(identifier):
    return naming.resolve("regularizer", identifier, regularizers.Regularizer, regularizers.ALL, regularizers.NAMES)


def test_resolve_each_kind_of_identifier() -> None:
    assert _resolve(None) is None
    instance = regularizers.L2(0.3)
    assert _resolve(instance) is instance
    assert type(_resolve("l1")) is regularizers.L1
    assert type(_resolve("L1L2")) is regularizers.L1L2
    from_config = _resolve({"class_name": "L2", "config": {"l2": 0.25}})
    assert type(from_config) is regularizers.L2 and from_config.l2 == 0.25

    def custom(weight):
        return 0.0

    assert _resolve(custom) is custom
    with pytest.raises(TypeError, match="A regularizer must be a name, a config dict or a callable, got int"):
        _resolve(3)
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'"):
        _resolve("l3")


def test_describe_gives_the_keras_layout() -> None:
    described = naming.describe("lamina.regularizers", regularizers.L1(0.5), regularizers.Regularizer,
                                regularizers.ALL)
    assert described == {"module": "lamina.regularizers", "class_name": "L1", "config": {"l1": 0.5},
                         "registered_name": None}
    assert naming.describe("lamina.regularizers", None, regularizers.Regularizer, regularizers.ALL) is None
    assert type(_resolve(described)) is regularizers.L1
