"""Recurrent layers: the RNN layer and its cells, SimpleRNN, LSTM, GRU, ConvLSTM, and the wrappers."""

from __future__ import annotations

from lamina.layers.recurrent.bidirectional import Bidirectional
from lamina.layers.recurrent.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from lamina.layers.recurrent.gru import GRU, GRUCell
from lamina.layers.recurrent.lstm import LSTM, LSTMCell
from lamina.layers.recurrent.rnn import RNN
from lamina.layers.recurrent.simple_rnn import SimpleRNN, SimpleRNNCell
from lamina.layers.recurrent.stacked_cells import StackedRNNCells
from lamina.layers.recurrent.time_distributed import TimeDistributed
from lamina.layers.recurrent.wrapper import Wrapper

__all__ = ["Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN",
           "SimpleRNN", "SimpleRNNCell", "StackedRNNCells", "TimeDistributed", "Wrapper"]
