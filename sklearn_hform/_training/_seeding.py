"""Randomness that belongs to one fit: weight initialisation and dropout from a ``torch.Generator``.

torch's layers draw their initial weights and dropout masks from the
process-wide generator. Fits running in threads (joblib's threading backend,
a Dask worker) would then interleave their draws and lose reproducibility,
and a fit would disturb the caller's random state. Every random draw of a
fit in this package comes instead from a generator made for that fit:
:func:`initialize_parameters` draws the initial weights from it, and
:class:`use_generator` hands it, for the length of the fit, to every layer
that declares ``uses_fit_generator = True`` and draws from its
``generator`` attribute (as
:class:`~sklearn_hform.neural_network.GeneratorDropout` does).
"""

import math

import torch
from torch import nn

__all__ = ["fit_generator_layers", "initialize_parameters", "use_generator"]


def fit_generator_layers(module):
    """The layers of ``module`` that draw from a fit's generator (``uses_fit_generator = True``).

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    list of torch.nn.Module
    """
    # A class attribute rather than a type test: the layers are defined by
    # the networks above this package, which the training engine must not import.
    return [m for m in module.modules() if getattr(type(m), "uses_fit_generator", False)]


class use_generator:
    """Context manager: every layer of ``module`` that draws from a fit's generator draws from ``generator``.

    Parameters
    ----------
    module : torch.nn.Module
    generator : torch.Generator
    """

    def __init__(self, module, generator):
        self.layers = fit_generator_layers(module)
        self.generator = generator

    def __enter__(self):
        for layer in self.layers:
            layer.generator = self.generator
        return self

    def __exit__(self, *exc):
        for layer in self.layers:
            layer.generator = None
        return False


def _uniform_fan_in(weight, bias, generator):
    # torch's default for Linear and Conv: kaiming_uniform(a=sqrt(5)) for the
    # weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias.
    nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in = weight[0].numel()
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        nn.init.uniform_(bias, -bound, bound, generator=generator)


def initialize_parameters(module, generator):
    """Draw ``module``'s initial weights from ``generator``, with torch's default distributions.

    Covers the layers this package's networks use: linear and convolution
    layers, embeddings, multi-head attention and normalisation layers
    (which have no random part).

    Parameters
    ----------
    module : torch.nn.Module
    generator : torch.Generator

    Raises
    ------
    TypeError
        For a layer with parameters of its own that this function does not
        know; initialise such a network by overriding
        ``BaseTorchRegressor.initialize_module``.
    """
    with torch.no_grad():
        for layer in module.modules():
            own = list(layer.parameters(recurse=False))
            if not own:
                continue
            if isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                _uniform_fan_in(layer.weight, layer.bias, generator)
            elif isinstance(layer, nn.Embedding):
                nn.init.normal_(layer.weight, generator=generator)
                if layer.padding_idx is not None:
                    layer.weight[layer.padding_idx].zero_()
            elif isinstance(layer, nn.MultiheadAttention):
                for name, p in layer.named_parameters(recurse=False):
                    if name.endswith("bias"):
                        nn.init.zeros_(p)
                    elif p.dim() > 1:
                        nn.init.xavier_uniform_(p, generator=generator)
                    else:
                        nn.init.normal_(p, generator=generator)
            elif isinstance(layer, (nn.LayerNorm, nn.RMSNorm, nn.GroupNorm, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                layer.reset_parameters()
            else:
                raise TypeError(
                    f"cannot initialise a {type(layer).__name__} from a generator; override "
                    "initialize_module(module, generator) in the estimator"
                )
