"""A composition transformer as a scikit-learn regressor: attention over the elements present."""

import numbers

import numpy as np

from ..utils._constraints import Interval, StrOptions
from ._base import BaseTorchRegressor
from ._parameter_docs import document_training_parameters

__all__ = ["CompositionTransformerRegressor", "ELEMENT_EMBEDDINGS"]

#: Accepted values of ``element_embedding``.
ELEMENT_EMBEDDINGS = ("random", "magpie")


def _check_non_negative(X):
    bad = np.argwhere(X < 0)
    if len(bad):
        row, col = bad[0]
        raise ValueError(f"Negative values in data passed to CompositionTransformerRegressor, which takes "
                         f"element fractions (>= 0): "
                         f"row {row}, column {col} is {float(X[row, col])!r}")


@document_training_parameters(notes={
    "mixed_precision": "Here the encoder runs under autocast and the head stays float32. Whether that pays "
                       "depends on the machine: on a 2-core Xeon with AMX an epoch took 0.90x the speed of "
                       "float32 (benchmarks/bench_transformer.py), so ``\"auto\"`` measures.",
    "cuda_graphs": "A captured fit pads its batches to the longest row of the data, so that every full "
                   "batch has one shape; otherwise (and on the CPU) each batch is grouped by element count "
                   "and nothing is padded.",
})
class CompositionTransformerRegressor(BaseTorchRegressor):
    """Transformer encoder over the elements of each composition, a scikit-learn regressor.

    Takes the same element-fraction vectors as
    :class:`FormationEnthalpyRegressor` (put it behind a
    :class:`~sklearn_hform.CompositionFractionTransformer`), but instead of
    a fully connected network over all columns it treats the elements
    present as tokens (a learned element embedding plus a code of the
    fraction), lets them attend to each other through ``n_layers`` pre-norm
    encoder layers, pools them by fraction and reads the result with a
    small MLP (see :class:`~sklearn_hform.neural_network.ElementAttentionNet`).
    This is the idea of CrabNet and Roost: what an element contributes
    depends on which other elements are there.

    Parameters
    ----------
    d_model : int, default=128
        Width of an element token.
    n_heads : int, default=4
        Attention heads; must divide ``d_model``.
    n_layers : int, default=3
        Encoder layers.
    dim_feedforward : int, default=512
        Width of each layer's feed-forward block.
    dropout : float, default=0.0
        Dropout inside the encoder layers.
    element_embedding : {"random", "magpie"}, default="random"
        Initial element embeddings. ``"random"`` draws them; ``"magpie"``
        starts from the 22 standardised Magpie element properties of
        matminer (atomic number, electronegativity, valence electrons,
        ...) mapped to ``d_model`` by a random projection. Either way they
        are learned. Columns are read as elements from ``feature_names_in_``
        when those are element symbols, otherwise as H, He, Li, ... in
        order (the columns of ``CompositionFractionTransformer``).
    {training_parameters}

    Attributes
    ----------
    module_ : ElementAttentionNet
        The trained network, in eval mode.
    net_ : skorch.regressor.NeuralNetRegressor
        The net that trained it, with its per-epoch ``history``.
    device_ : str
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When fitted on a DataFrame with string column names.

    See Also
    --------
    FormationEnthalpyRegressor : the paper's fully connected network.

    References
    ----------
    Wang, A. Y.-T., Kauwe, S. K., Murdock, R. J. and Sparks, T. D. (2021).
    Compositionally restricted attention-based network for materials
    property predictions. npj Comput. Mater. 7, 77.

    Goodall, R. E. A. and Lee, A. A. (2020). Predicting materials properties
    without crystal structure: deep representation learning from
    stoichiometry. Nat. Commun. 11, 6280.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_hform import CompositionFractionTransformer, CompositionTransformerRegressor
    >>> from sklearn_hform.datasets import load_oqmd_hform
    >>> X, y = load_oqmd_hform(split="train", return_X_y=True)
    >>> pipe = make_pipeline(CompositionFractionTransformer(),
    ...                      CompositionTransformerRegressor(d_model=32, dim_feedforward=64, n_layers=1,
    ...                                                      max_epochs=2, random_state=0, device="cpu"))
    >>> pipe.fit(X[:1000], y[:1000]).predict(["Fe2O3", "NaCl"]).shape
    (2,)
    """

    _parameter_constraints = {
        "d_model": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_heads": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "dim_feedforward": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "element_embedding": [StrOptions(set(ELEMENT_EMBEDDINGS))],
        **BaseTorchRegressor._parameter_constraints,
    }

    def __init__(self, d_model=128, n_heads=4, n_layers=3, dim_feedforward=512, dropout=0.0,
                 element_embedding="random", optimizer="adamw", lr=7e-4, lr_schedule="warmup_cosine",
                 weight_decay=1e-4, mixed_precision=False,
                 predict_precision="float32", cuda_graphs=True, loss="l1", batch_size=512,
                 max_epochs=40, validation_fraction=None, n_iter_no_change=None, callbacks=None, warm_start=False,
                 random_state=None, verbose=0, device="auto"):
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.dim_feedforward = dim_feedforward
        self.dropout = dropout
        self.element_embedding = element_embedding
        super().__init__(**self.training_arguments(locals()))

    def build_module(self, n_features):
        """The :class:`~sklearn_hform.neural_network.ElementAttentionNet` the parameters describe."""
        from ._attention_module import ElementAttentionNet

        if self.d_model % self.n_heads:
            raise ValueError(f"n_heads={self.n_heads} must divide d_model={self.d_model}")
        return ElementAttentionNet(n_features, self.d_model, self.n_heads, self.n_layers, self.dim_feedforward,
                                   self.dropout)

    def validate_fit_data(self, X, y, sample_weight=None):
        X, y, sample_weight = super().validate_fit_data(X, y, sample_weight)
        _check_non_negative(X)
        return X, y, sample_weight

    def predict_batches(self, X):
        _check_non_negative(X)
        return super().predict_batches(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The tokens are the positive entries of a row: fractions, not arbitrary numbers.
        tags.input_tags.positive_only = True
        return tags

    def initialize_module(self, module, generator):
        """Draw the weights; with ``element_embedding="magpie"`` start the embeddings from element properties."""
        super().initialize_module(module, generator)
        if self.element_embedding == "magpie":
            import torch

            from ..composition._element_data import magpie_properties

            table = torch.as_tensor(magpie_properties(self._column_elements(module.embedding.num_embeddings)))
            projection = torch.randn(table.shape[1], self.d_model, generator=generator) / np.sqrt(table.shape[1])
            with torch.no_grad():
                module.embedding.weight.copy_(table @ projection)

    def _column_elements(self, n_features):
        from ..composition._formula import ATOMIC_NUMBER, SYMBOLS

        names = [str(n) for n in getattr(self, "feature_names_in_", [])]
        if len(names) == n_features and all(n in ATOMIC_NUMBER for n in names):
            return names
        return [SYMBOLS[i] if i < len(SYMBOLS) else None for i in range(n_features)]
