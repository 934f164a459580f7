"""Layers by their Keras names."""

from lamina.layers.convolution import Conv1D, Conv2D, Conv3D
from lamina.layers.core import Activation, Dense, Dropout, Embedding
from lamina.layers.input_layer import Input, InputLayer
from lamina.layers.layer import InputSpec, Layer
from lamina.layers.merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add, concatenate
from lamina.layers.pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D, AvgPool1D, AvgPool2D,
                                   AvgPool3D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D,
                                   GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D,
                                   GlobalMaxPool3D, GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D,
                                   MaxPool1D, MaxPool2D, MaxPool3D, MaxPooling1D, MaxPooling2D, MaxPooling3D)
from lamina.layers.recurrent import GRU, LSTM, SimpleRNN
from lamina.layers.reshaping import Flatten, Reshape

__all__ = ["Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract", "add", "concatenate",
           "Activation", "Dense", "Dropout", "Embedding", "Flatten", "Input", "InputLayer", "InputSpec", "Layer",
           "Reshape",
           "Conv1D", "Conv2D", "Conv3D",
           "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
           "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
           "GRU", "LSTM", "SimpleRNN"]
