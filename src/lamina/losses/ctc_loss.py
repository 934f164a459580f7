"""The connectionist temporal classification loss, for unaligned sequence labels."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.losses.loss import BuiltinLoss, prediction

BLANK = 0  # the label index that pads y_true and stands for "no label" in y_pred


def ctc(y_true: Any, y_pred: Any) -> Any:
    """The CTC loss per sample.

    Args:
        y_true: integer labels of shape (batch, max_label_length), padded with 0 (the blank).
        y_pred: logits of shape (batch, time, classes); class 0 is the blank.
    """
    B = backend.impl
    y_true_shape, y_pred_shape = B.shape(y_true), B.shape(y_pred)
    if len(y_true_shape) != 2:
        raise ValueError("ctc: y_true must hold integer labels of shape (batch_size, max_length), "
                         f"got shape {tuple(y_true_shape)}.")
    if len(y_pred_shape) != 3:
        raise ValueError("ctc: y_pred must hold logits of shape (batch_size, max_length, num_classes), "
                         f"got shape {tuple(y_pred_shape)}.")
    y_pred = prediction(y_pred)
    labels = B.cast(y_true, "int32")
    label_length = B.cast(B.sum(B.cast(B.not_equal(labels, BLANK), "int32"), axis=-1), "int32")
    output_length = B.full((y_pred_shape[0],), y_pred_shape[1], dtype="int32")
    return B.ctc_loss(labels, y_pred, label_length, output_length, mask_index=BLANK)


class CTC(BuiltinLoss):
    """The CTC loss, reduced over the batch."""

    function = staticmethod(ctc)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "ctc",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        # Its labels are not shaped like its predictions: a call of its own tells fit's target-shape
        # check, which knows only the built-in losses of same-shaped or sparse labels, to leave them be.
        return super().call(y_true, y_pred)


FUNCTIONS = (ctc,)
CLASSES = (CTC,)
