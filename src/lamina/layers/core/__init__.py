"""Core layers: Dense, Embedding, Activation, the dropout and noise layers, Lambda, Masking, the wrappers of
a backend's own models and the like."""

from lamina.layers.core.dense import Dense
from lamina.layers.core.embedding import Embedding
from lamina.layers.core.lambda_layer import Lambda
from lamina.layers.core.reversible_embedding import ReversibleEmbedding
from lamina.layers.core.noise import (AlphaDropout, Dropout, GaussianDropout, GaussianNoise, SpatialDropout1D,
                                      SpatialDropout2D, SpatialDropout3D)
from lamina.layers.core.simple import Activation, ActivityRegularization, Identity, Masking
from lamina.layers.core.wrappers import JaxLayer, TorchModuleWrapper

__all__ = ["Activation", "ActivityRegularization", "AlphaDropout", "Dense", "Dropout", "Embedding",
           "GaussianDropout", "GaussianNoise", "Identity", "JaxLayer", "Lambda", "Masking", "ReversibleEmbedding",
           "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "TorchModuleWrapper"]
