"""Progbar: averaged and stateful values, the step count and bar, verbose 1 and 2."""

from __future__ import annotations

import pytest

from lamina.utils import Progbar


def test_values_are_averaged_over_steps_unless_stateful(capsys) -> None:
    bar = Progbar(4, interval=0, stateful_metrics=["acc"])
    bar.update(1, [("loss", 1.0), ("acc", 0.1)])
    bar.update(3, [("loss", 3.0), ("acc", 0.3)])  # two steps at 3.0: (1 + 3 * 2) / 3
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "3/4 [" in line and "loss: 2.3333" in line and "acc: 0.3000" in line and "ETA" in line
    bar.add(1, [("loss", 5.0)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("4/4 [====================]") and "step" in last and "loss: 5.0000" in last


def test_verbose_2_prints_one_line_at_the_end(capsys) -> None:
    bar = Progbar(3, verbose=2, stateless_metrics=["loss"], unit_name="sample")
    for step in range(1, 4):
        bar.update(step, [("loss", float(step)), ("lr", 0.5)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("3/3 - ") and "sample" in lines[0] and "lr: 0.5000" in lines[0]


def test_unknown_target_and_bad_arguments(capsys) -> None:
    bar = Progbar(None, interval=0)
    bar.update(5, [("loss", 1.0)])
    assert "5/Unknown" in capsys.readouterr().out
    with pytest.raises(ValueError, match="stateful_metrics or stateless_metrics"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])
    with pytest.raises(ValueError, match="target"):
        Progbar(-1)
