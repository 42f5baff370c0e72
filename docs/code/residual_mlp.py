"""A new network for sklearn-hform in one file: a residual MLP."""

import numbers

from torch import nn

from sklearn_hform.neural_network import BaseTorchRegressor, document_training_parameters
from sklearn_hform.persistence import register_estimator
from sklearn_hform.utils import Interval


class ResidualMLP(nn.Module):
    # Fixed shapes, no host reads: stacked ensembles (vmap) and CUDA graphs apply.
    vmap_safe = True
    cuda_graph_safe = True

    def __init__(self, n_features, width, n_blocks):
        super().__init__()
        self.inp = nn.Linear(n_features, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.ReLU()) for _ in range(n_blocks)
        )
        self.out = nn.Linear(width, 1)

    def forward(self, X):
        h = self.inp(X)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h).squeeze(-1)


@register_estimator  # so that save_model / load_model handle it
@document_training_parameters()  # the shared training parameters, with this class's defaults
class ResidualMLPRegressor(BaseTorchRegressor):
    """A residual MLP over element fractions.

    Parameters
    ----------
    width : int, default=128
        Width of every block.
    n_blocks : int, default=3
        Residual blocks (layer norm, linear, ReLU, added to their input).
    {training_parameters}
    """

    _parameter_constraints = {
        "width": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_blocks": [Interval(numbers.Integral, 0, None, closed="left")],
        **BaseTorchRegressor._parameter_constraints,
    }

    def __init__(self, width=128, n_blocks=3, *, optimizer="adamw", lr=1e-3, lr_schedule="cosine",
                 weight_decay=0.0, mixed_precision=False,
                 predict_precision="float32", cuda_graphs=True, loss="l1", batch_size=1024,
                 max_epochs=100, validation_fraction=None, n_iter_no_change=None, callbacks=None, warm_start=False,
                 random_state=None, verbose=0, device="auto"):
        self.width = width
        self.n_blocks = n_blocks
        super().__init__(**self.training_arguments(locals()))

    def build_module(self, n_features):
        return ResidualMLP(n_features, self.width, self.n_blocks)
