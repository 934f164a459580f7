"""plot_model / model_to_dot: the layer graph as DOT, drawn when pydot and Graphviz are installed; plot_history."""

from __future__ import annotations

import importlib.util
import pathlib
import re
import shutil

import numpy as np
import pytest

import lamina
from lamina import layers
from lamina.utils import model_to_dot, plot_history, plot_model
from lamina.utils.plotting import dot_source

HAS_PYDOT = importlib.util.find_spec("pydot") is not None
HAS_DOT = shutil.which("dot") is not None
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def two_input_model() -> lamina.Model:
    a, b = layers.Input((4,), name="a"), layers.Input((3,), name="b")
    hidden = layers.Dense(5, activation="relu", name="hidden")(a)
    joined = layers.Concatenate(name="joined")([hidden, b])
    return lamina.Model([a, b], layers.Dense(1, name="out")(joined))


def names_and_edges(source: str) -> tuple[dict[str, str], set[tuple[str, str]]]:
    nodes = dict(re.findall(r'"(\d+)" \[label="([^"\\]+)', source))
    edges = set(re.findall(r'"(\d+)" -> "(\d+)"', source))
    name = {key: label.split(" ")[0] for key, label in nodes.items()}
    return name, {(name[a], name[b]) for a, b in edges}


def test_the_graph_has_a_box_per_layer_and_an_arrow_per_connection() -> None:
    source = dot_source(two_input_model(), show_shapes=True, show_layer_activations=True, show_trainable=True)
    names, edges = names_and_edges(source)
    assert sorted(names.values()) == ["a", "b", "hidden", "joined", "out"]
    assert edges == {("a", "hidden"), ("hidden", "joined"), ("b", "joined"), ("joined", "out")}
    assert "Output shape: (None, 8)" in source and "Activation: relu" in source and "Trainable: True" in source
    assert "Input shape: [(None, 5), (None, 3)]" in source
    chain = dot_source(lamina.Sequential([layers.Input((4,)), layers.Dense(2, name="x"), layers.Dense(1, name="y")]),
                       rankdir="LR", show_layer_names=False)
    assert "rankdir=LR" in chain and ("Dense", "Dense") in names_and_edges(chain)[1]


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="rankdir"):
        dot_source(two_input_model(), rankdir="BT")
    with pytest.raises(ValueError, match="layer_range"):
        model_to_dot(two_input_model(), layer_range=["a", "b"])


@pytest.mark.skipif(HAS_PYDOT, reason="pydot is installed")
def test_without_pydot_the_error_says_what_to_install() -> None:
    with pytest.raises(ImportError, match="pip install pydot"):
        model_to_dot(two_input_model())
    with pytest.raises(ImportError, match="pip install pydot"):
        plot_model(two_input_model())


@pytest.mark.skipif(not HAS_PYDOT, reason="needs pydot")
def test_without_graphviz_the_error_says_what_to_install(tmp_path: pathlib.Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)  # as on a machine without `dot`
    assert model_to_dot(two_input_model()).get_node_list()  # the graph itself needs only pydot
    with pytest.raises(ImportError, match=r"install Graphviz, whose `dot` program.*apt install graphviz"):
        plot_model(two_input_model(), to_file=str(tmp_path / "model.png"))
    assert not (tmp_path / "model.png").exists()


@pytest.mark.skipif(not (HAS_PYDOT and HAS_DOT), reason="needs pydot and Graphviz")
def test_plot_model_writes_a_png(tmp_path: pathlib.Path) -> None:
    image = pytest.importorskip("PIL.Image")
    path = tmp_path / "model.png"
    plot_model(two_input_model(), to_file=str(path), show_shapes=True, dpi=60)
    with image.open(path) as png:
        assert png.format == "PNG" and png.size[0] > 10


@pytest.mark.skipif(HAS_MATPLOTLIB, reason="matplotlib is installed")
def test_plot_history_without_matplotlib_says_what_to_install() -> None:
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_history({"loss": [1.0, 0.5]})


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="needs matplotlib")
def test_plot_history_draws_each_metric_with_its_validation_twin(tmp_path: pathlib.Path) -> None:
    figure = plot_history({"loss": [1.0, 0.5], "val_loss": [1.2, 0.7], "accuracy": [0.5, 0.8]},
                          to_file=str(tmp_path / "history.png"))
    assert len(figure.axes) == 2 and len(figure.axes[0].lines) == 2
    assert (tmp_path / "history.png").exists() and np.isfinite(figure.axes[1].lines[0].get_ydata()).all()
    with pytest.raises(ValueError, match="not in the history"):
        plot_history({"loss": [1.0]}, metrics=["auc"])


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="needs matplotlib")
def test_history_plot_draws_what_fit_logged_to_a_png(tmp_path: pathlib.Path) -> None:
    image = pytest.importorskip("PIL.Image")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 2, 32)
    model = lamina.Sequential([layers.Input((4,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    figure = history.plot()
    path = tmp_path / "history.png"
    figure.savefig(path)
    with image.open(path) as png:
        assert png.format == "PNG" and png.size[0] > 100
    assert [axis.get_title() for axis in figure.axes] == ["loss", "accuracy"]
    for axis, name in zip(figure.axes, ["loss", "accuracy"]):
        assert [line.get_label() for line in axis.lines] == [name, f"val_{name}"]
        np.testing.assert_allclose(axis.lines[0].get_ydata(), history.history[name])
        np.testing.assert_allclose(axis.lines[1].get_ydata(), history.history[f"val_{name}"])
        np.testing.assert_array_equal(axis.lines[0].get_xdata(), [1, 2, 3])
    again = plot_history(history, metrics=["loss"])
    assert len(again.axes) == 1 and len(again.axes[0].lines) == 2
    plt.close("all")
