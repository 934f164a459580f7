"""Deployment: models and chosen functions written as programs that run without Lamina (torch.export, ONNX)."""

from lamina.export.archive import ExportArchive

__all__ = ["ExportArchive"]
