"""The PyTorch module of ElemNet and Ti et al. (2020): a fully connected network."""

import torch
from torch import nn

from ._layers import GeneratorDropout

__all__ = ["FractionMLP"]


class FractionMLP(nn.Module):
    """Fully connected ReLU network from element fractions to one number.

    Parameters
    ----------
    n_features : int
        Width of the input (number of elements).
    hidden_layer_sizes : sequence of int
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout rate applied between consecutive hidden layers of different
        width, where Table 1 of Ti et al. (2020) places it. No dropout layer
        is built when it is 0.

    Notes
    -----
    The output has shape ``(n_samples,)``, not ``(n_samples, 1)``: with a
    1-D target, a column output would broadcast against it in the loss to an
    ``(n, n)`` matrix and train on the wrong objective.

    Under bfloat16 autocast the hidden layers compute in bfloat16 and the
    output layer in float32, so the prediction keeps its resolution.
    """

    #: Parameters that autocast casts to bfloat16 before use: they can be
    #: stored that way without changing any output.
    autocast_prefixes = ("hidden.",)
    #: The forward pass is a fixed sequence of tensor operations (no shapes
    #: that depend on the data, no reads back to the host), so both fast
    #: paths apply: K copies trained as one vmapped model
    #: (:func:`~sklearn_hform.neural_network.fit_stacked`) and the step
    #: captured as a CUDA graph (:mod:`sklearn_hform._training._cuda_graphs`).
    vmap_safe = True
    cuda_graph_safe = True

    def __init__(self, n_features, hidden_layer_sizes, dropout=0.0):
        super().__init__()
        layers = []
        width_in = n_features
        sizes = list(hidden_layer_sizes)
        for i, width in enumerate(sizes):
            layers += [nn.Linear(width_in, width), nn.ReLU()]
            changes_width = i + 1 < len(sizes) and sizes[i + 1] != width
            if dropout > 0 and changes_width:
                layers.append(GeneratorDropout(dropout))
            width_in = width
        self.hidden = nn.Sequential(*layers)
        self.output = nn.Linear(width_in, 1)

    def forward(self, X):
        h = self.hidden(X)
        with torch.autocast(X.device.type, enabled=False):
            return self.output(h.float()).squeeze(-1)
