"""Losses that shape an embedding space: the Circle loss over pairs of L2-normalized embeddings."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.losses.loss import BuiltinLoss, prediction, set_keras_mask

# Stands for -inf in the log-sum-exp over a masked set of pairs: exp of it is 0 in float32, but unlike -inf
# it keeps the gradient of a sample without any positive (or negative) pair finite.
_EXCLUDED = -1e9


def _pair_masks(labels: Any, reference_labels: Any, remove_diagonal: bool) -> tuple[Any, Any]:
    """(query, reference) pairs of the same label, and of different labels; a sample is not its own positive."""
    B = backend.impl
    labels = B.reshape(labels, (-1, 1))
    reference_labels = B.reshape(reference_labels, (-1, 1))
    positive = B.equal(labels, B.transpose(reference_labels))
    negative = B.logical_not(positive)
    if remove_diagonal:
        eye = B.eye(B.size(labels), B.size(reference_labels), dtype="bool")
        positive = B.logical_and(positive, B.logical_not(eye))
    return positive, negative


def circle(y_true: Any, y_pred: Any, ref_labels: Any = None, ref_embeddings: Any = None,
           remove_diagonal: bool = True, gamma: float = 80, margin: float = 0.4) -> Any:
    """The Circle loss per sample, of embeddings y_pred (batch, dim) with integer labels y_true (batch,).

    Pairs are compared by cosine distance, so the embeddings should be L2-normalized; the references are
    the batch itself unless ref_labels and ref_embeddings are given. Samples with a loss of 0 are masked
    out of the mean.
    """
    B = backend.impl
    y_pred = prediction(y_pred)
    labels = B.cast(y_true, "int32")
    references = y_pred if ref_embeddings is None else B.convert_to_tensor(ref_embeddings, B.dtype_of(y_pred))
    reference_labels = labels if ref_labels is None else B.cast(ref_labels, "int32")
    distances = B.maximum(1.0 - B.matmul(y_pred, B.transpose(references)), 0.0)  # (batch, references)
    positive, negative = _pair_masks(labels, reference_labels, remove_diagonal)
    dtype = B.dtype_of(distances)
    positive_weights = B.maximum((margin + distances) * B.cast(positive, dtype), 0.0)
    negative_weights = B.maximum((1.0 + margin - distances) * B.cast(negative, dtype), 0.0)
    positive_terms = -gamma * positive_weights * (margin - distances)
    negative_terms = gamma * negative_weights * (1.0 - margin - distances)
    positive_loss = B.logsumexp(B.where(positive, positive_terms, _EXCLUDED), axis=1)
    negative_loss = B.logsumexp(B.where(negative, negative_terms, _EXCLUDED), axis=1)
    values = B.softplus(positive_loss + negative_loss)
    return set_keras_mask(values, B.greater(values, 0.0))


class Circle(BuiltinLoss):
    """The Circle loss for metric learning, reduced over the samples with a positive loss."""

    function = staticmethod(circle)

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: str | None = "sum_over_batch_size", name: str | None = "circle",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        # Its labels are not shaped like its predictions: a call of its own tells fit's target-shape
        # check, which knows only the built-in losses of same-shaped or sparse labels, to leave them be.
        return super().call(y_true, y_pred)


FUNCTIONS = (circle,)
CLASSES = (Circle,)
