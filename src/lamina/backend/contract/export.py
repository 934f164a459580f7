"""Deployment: a model's forward pass captured as a program that runs without Lamina (torch.export, ONNX)."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

# Only torch captures programs; jax provides these names too, raising an error that says to use torch.
ENTRIES = (
    Entry("export_program", "export_program(fn, variables, inputs, dynamic_axes, options=None)",
          "fn(*inputs) captured ahead of time (torch.export) with the variables as its weights; the axes listed "
          "per input in dynamic_axes take any size (axis 0: the batch, shared by all inputs); options go to "
          "torch.export.export", inference=False),
    Entry("save_program", "save_program(program, stream)",
          "write an exported program (.pt2) to an open binary stream", inference=False),
    Entry("program_to_onnx", "program_to_onnx(program, input_names, output_names, opset_version=None)",
          "an exported program as the bytes of an ONNX model; outputs are named output_names when the counts "
          "match, else output_0, output_1 and so on", inference=False),
)
