"""The PyTorch module of the composition transformer: attention over the elements present."""

import torch
from torch import nn

__all__ = ["ElementAttentionNet"]


class ElementAttentionNet(nn.Module):
    """Transformer encoder over the elements of a composition, pooled to one number.

    Each row of the input is a vector of element fractions. The elements
    present (fraction > 0) become tokens: a learned embedding of the
    element plus a small network of its fraction ``x`` and ``log(x) / 10``.
    Pre-norm encoder layers let every element attend to the others; the
    tokens are pooled by their fractions and a small MLP head reads the
    result.

    Parameters
    ----------
    n_features : int
        Number of elements (columns of the fraction vector).
    d_model : int
        Width of a token.
    n_heads : int
        Attention heads; must divide ``d_model``.
    n_layers : int
        Encoder layers.
    dim_feedforward : int
        Width of each encoder layer's feed-forward block.
    dropout : float
        Dropout inside the encoder layers.

    Notes
    -----
    A batch is padded to the largest number of elements present in any of
    its rows, so the cost follows the compositions, not the 94 columns;
    finding that number reads one integer from the device per batch.
    A row with nothing positive keeps its largest entry as its only token,
    so every row has an output.
    """

    #: Parameters that autocast casts to bfloat16 before use.
    autocast_prefixes = ("encoder.",)

    def __init__(self, n_features, d_model, n_heads, n_layers, dim_feedforward, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(n_features, d_model)
        self.fraction = nn.Sequential(nn.Linear(2, d_model), nn.GELU(), nn.Linear(d_model, d_model))
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Sequential(nn.Linear(d_model, 2 * d_model), nn.GELU(), nn.Linear(2 * d_model, d_model),
                                  nn.GELU(), nn.Linear(d_model, 1))

    def forward(self, X):
        n_tokens = max(int((X > 0).sum(dim=1).max()), 1)
        fraction, element = X.topk(n_tokens, dim=1)
        present = fraction > 0
        present[:, 0] = True
        x = fraction.clamp_min(0).float()
        code = torch.stack([x, torch.log(x.clamp_min(1e-8)) / 10], dim=-1)
        h = self.embedding(element) + self.fraction(code.to(self.embedding.weight.dtype))
        h = self.encoder(h, src_key_padding_mask=~present)
        h = self.norm(h)
        weight = x * present
        # Rows whose only token has fraction 0 are pooled evenly instead.
        weight = torch.where(weight.sum(dim=1, keepdim=True) > 0, weight, present.float())
        weight = weight / weight.sum(dim=1, keepdim=True)
        pooled = (h.float() * weight.unsqueeze(-1)).sum(dim=1)
        with torch.autocast(X.device.type, enabled=False):
            return self.head(pooled).squeeze(-1)
