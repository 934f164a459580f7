"""model.summary(): the rich table of layers, shapes, parameter counts and connections, then the totals."""

from __future__ import annotations

import re

import pytest

from lamina.layers import Concatenate, Dense, Input
from lamina.models import Model, Sequential
from lamina.utils.summary import readable_size


def captured(model: Model, **kwargs) -> str:
    texts = []
    model.summary(print_fn=texts.append, **kwargs)
    assert len(texts) == 1  # print_fn receives the whole rendered text at once
    return texts[0]


def table_rows(text: str) -> list[list[str]]:
    """The cells of each table row (a wrapped row's lines joined), header included."""
    rows, current = [], None
    for line in text.splitlines():
        if line.startswith(("┃", "│")):
            cells = [cell.strip() for cell in re.split(r"[┃│]", line)[1:-1]]
            if current is None:
                current = cells
            else:
                current = [" ".join(part for part in (a, b) if part) for a, b in zip(current, cells)]
        elif current is not None:
            rows.append(current)
            current = None
    return rows


def test_sequential_table_title_and_totals():
    model = Sequential([Dense(64, activation="relu", input_shape=(100,)), Dense(10, activation="softmax")],
                       name="sequential")
    model.layers[0].name, model.layers[1].name = "hidden", "classes"
    text = captured(model)
    lines = text.splitlines()
    assert lines[0] == 'Model: "sequential"'
    assert lines[1].startswith("┏") and lines[3].startswith("┡")  # a boxed table with a heavy header
    assert all(len(line) == 84 for line in lines[1:-3])
    assert table_rows(text) == [
        ["Layer (type)", "Output Shape", "Param #"],
        ["hidden (Dense)", "(None, 64)", "6,464"],
        ["classes (Dense)", "(None, 10)", "650"],
    ]
    assert re.search(r"│ +6,464 │$", next(line for line in lines if "hidden" in line))  # counts right-aligned
    assert lines[-3:] == [" Total params: 7,114 (27.79 KB)", " Trainable params: 7,114 (27.79 KB)",
                          " Non-trainable params: 0 (0.00 B)"]


def test_summary_prints_by_default(capsys):
    model = Sequential([Dense(2, input_shape=(3,))], name="tiny")
    model.summary()
    out = capsys.readouterr().out
    assert out.startswith('Model: "tiny"\n┏') and out.endswith(" Non-trainable params: 0 (0.00 B)\n")


def test_non_trainable_params_are_counted_apart():
    model = Sequential([Dense(4, input_shape=(3,), trainable=False), Dense(2)])
    text = captured(model)
    # frozen: 3*4 + 4 = 16; trainable: 4*2 + 2 = 10; float32 weights take 4 bytes each.
    assert text.splitlines()[-3:] == [" Total params: 26 (104.00 B)", " Trainable params: 10 (40.00 B)",
                                      " Non-trainable params: 16 (64.00 B)"]


def test_functional_model_with_two_inputs_shows_connections():
    image, label = Input((32,), name="image"), Input((16,), name="label")
    merged = Concatenate(name="merge")([Dense(8, name="from_image")(image), Dense(8, name="from_label")(label)])
    model = Model([image, label], Dense(1, name="score")(merged), name="two_inputs")
    text = captured(model)
    assert text.splitlines()[0] == 'Model: "two_inputs"'
    assert all(len(line) == 108 for line in text.splitlines()[1:-3])
    rows = table_rows(text)
    assert rows[0] == ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    by_name = {row[0].split()[0]: row[1:] for row in rows[1:]}
    assert by_name == {
        "image": ["(None, 32)", "0", "-"],
        "label": ["(None, 16)", "0", "-"],
        "from_image": ["(None, 8)", "264", "image[0][0]"],
        "from_label": ["(None, 8)", "136", "label[0][0]"],
        "merge": ["(None, 16)", "0", "from_image[0][0], from_label[0][0]"],
        "score": ["(None, 1)", "17", "merge[0][0]"],
    }
    assert "(InputLayer)" in text and "(Concatenate)" in text


def test_a_functional_chain_has_no_connected_to_column():
    inputs = Input((4,))
    model = Model(inputs, Dense(2)(Dense(3)(inputs)))
    assert table_rows(captured(model))[0] == ["Layer (type)", "Output Shape", "Param #"]


def test_long_names_wrap_inside_their_column():
    name = "a_dense_layer_with_a_name_much_longer_than_its_column_is_wide"
    text = captured(Sequential([Dense(2, input_shape=(3,), name=name)]), line_length=60)
    assert all(len(line) == 60 for line in text.splitlines()[1:-3])
    assert name not in text  # wrapped over several lines ...
    assert "".join(row[0] for row in table_rows(text)[1:]).replace(" ", "") == f"{name}(Dense)"  # ... all kept


def nested_model() -> Model:
    inner = Sequential([Dense(4, input_shape=(3,), name="inner_first"), Dense(2, name="inner_second")],
                       name="inner")
    inner.get_layer("inner_first").trainable = False
    inputs = Input((3,), name="features")
    return Model(inputs, Dense(5, name="head")(inner(inputs)), name="outer")


def test_expand_nested_lists_the_layers_of_a_nested_model():
    model = nested_model()
    collapsed = [row[0] for row in table_rows(captured(model))[1:]]
    assert collapsed == ["features (InputLayer)", "inner (Sequential)", "head (Dense)"]
    text = captured(model, expand_nested=True)
    expanded = table_rows(text)[1:]
    assert [row[0] for row in expanded] == ["features (InputLayer)", "inner (Sequential)", "inner_first (Dense)",
                                            "inner_second (Dense)", "head (Dense)"]
    assert [row[1:] for row in expanded[2:4]] == [["(None, 4)", "16"], ["(None, 2)", "10"]]
    assert "│   inner_first (Dense)" in text  # indented under its model


def test_show_trainable_adds_a_column():
    text = captured(nested_model(), expand_nested=True, show_trainable=True)
    rows = table_rows(text)
    assert rows[0][-1] == "Trainable"
    assert {row[0]: row[-1] for row in rows[1:]} == {
        "features (InputLayer)": "-", "inner (Sequential)": "Y", "inner_first (Dense)": "N",
        "inner_second (Dense)": "Y", "head (Dense)": "Y"}
    assert all(len(line) == 84 + 12 for line in text.splitlines()[1:-3])
    assert text.splitlines()[-2:] == [" Trainable params: 25 (100.00 B)", " Non-trainable params: 16 (64.00 B)"]


def test_layer_range_and_positions():
    model = Sequential([Dense(2, input_shape=(3,), name="one"), Dense(2, name="two"), Dense(2, name="three")])
    assert [row[0] for row in table_rows(captured(model, layer_range=["tw", "three"]))[1:]] == [
        "two (Dense)", "three (Dense)"]
    with pytest.raises(ValueError, match="layer_range.*selects no layers.*one, two, three"):
        captured(model, layer_range=["four", "three"])
    header = captured(model, line_length=50, positions=[20, 40, 50]).splitlines()[2]
    assert [index + 1 for index, char in enumerate(header) if char == "┃"] == [1, 20, 40, 50]  # columns' ends


def test_an_unbuilt_model_lists_its_layers_without_shapes_or_weights(capsys):
    model = Sequential([Dense(2, name="first"), Dense(1, name="second")], name="no_input")
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "no_input"' in text
    for name in ("first", "second"):
        assert re.search(rf"{name} \(Dense\)\s+│ \?\s+│\s+0 \(unbuilt\) │", text), text
    assert " Total params: 0 (0.00 B)" in text


@pytest.mark.parametrize(("size", "text"), [(0, "0.00 B"), (5160, "5.04 KB"), (3 * 1024**2 / 2, "1.50 MB")])
def test_readable_size(size, text):
    assert readable_size(size) == text
