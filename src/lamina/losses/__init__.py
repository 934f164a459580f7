"""Losses by their Keras names, as functions (per-sample values) and as Loss objects (reduced).

One module per family: `loss` (the base class and the reductions), `regression`, `probabilistic`,
`hinge_losses`, `segmentation`, `ctc_loss` and `metric_learning`; `lookup` resolves names and configs.
"""

from lamina.losses.ctc_loss import CTC, ctc
from lamina.losses.hinge_losses import CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge
from lamina.losses.lookup import CLASSES, FUNCTIONS, SHORT_NAMES, deserialize, get, serialize
from lamina.losses.loss import (REDUCTIONS, Loss, LossFunctionWrapper, reduce_weighted_values,
                                squeeze_or_expand_to_same_rank)
from lamina.losses.metric_learning import Circle, circle
from lamina.losses.probabilistic import (BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
                                         CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy,
                                         KLDivergence, Poisson, SparseCategoricalCrossentropy, binary_crossentropy,
                                         binary_focal_crossentropy, categorical_crossentropy,
                                         categorical_focal_crossentropy, categorical_generalized_cross_entropy,
                                         kl_divergence, poisson, sparse_categorical_crossentropy)
from lamina.losses.regression import (CosineSimilarity, Huber, LogCosh, MeanAbsoluteError,
                                      MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError,
                                      cosine_similarity, huber, log_cosh, mean_absolute_error,
                                      mean_absolute_percentage_error, mean_squared_error,
                                      mean_squared_logarithmic_error)
from lamina.losses.segmentation import Dice, Tversky, dice, tversky

# Keras 2's short spellings, which tutorials still use.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

__all__ = [
    "Loss", "LossFunctionWrapper", "REDUCTIONS", "get", "serialize", "deserialize",
    "squeeze_or_expand_to_same_rank", "reduce_weighted_values", "FUNCTIONS", "CLASSES", "SHORT_NAMES",
    "BinaryCrossentropy", "BinaryFocalCrossentropy", "CTC", "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy", "CategoricalGeneralizedCrossEntropy", "CategoricalHinge", "Circle",
    "CosineSimilarity", "Dice", "Hinge", "Huber", "KLDivergence", "LogCosh", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson",
    "SparseCategoricalCrossentropy", "SquaredHinge", "Tversky", "binary_crossentropy", "binary_focal_crossentropy",
    "categorical_crossentropy", "categorical_focal_crossentropy", "categorical_generalized_cross_entropy",
    "categorical_hinge", "circle", "cosine_similarity", "ctc", "dice", "hinge", "huber", "kl_divergence",
    "log_cosh", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "poisson", "sparse_categorical_crossentropy", "squared_hinge", "tversky",
    "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "kullback_leibler_divergence",
    "logcosh",
]
