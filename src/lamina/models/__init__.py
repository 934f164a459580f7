"""Models: Model (functional and subclassed) and Sequential."""

from lamina.models.cloning import clone_model, model_from_json
from lamina.models.functional import Functional
from lamina.models.model import Model
from lamina.models.sequential import Sequential
from lamina.saving import load_model, save_model

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
