"""The PyTorch module of the composition transformer: attention over the elements present."""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._training._batching import element_tokens, padding_mask
from ._layers import GeneratorDropout

__all__ = ["ElementAttentionNet"]


class _SelfAttention(nn.MultiheadAttention):
    """Batch-first multi-head self-attention whose dropout draws from a fit's generator.

    torch's attention draws its dropout masks from the global generator,
    which a fit must leave alone (see :mod:`sklearn_hform._training._seeding`).
    With dropout and in training mode this computes the attention itself,
    with the probabilities dropped by a
    :class:`~sklearn_hform.neural_network.GeneratorDropout`; otherwise it
    is torch's (including its fast inference path). The parameters, and so
    the state dict, are those of :class:`torch.nn.MultiheadAttention`.

    Parameters
    ----------
    embed_dim : int
    num_heads : int
        Must divide ``embed_dim``.
    dropout : float
        Probability of dropping an attention probability in training.
    """

    def __init__(self, embed_dim, num_heads, dropout):
        super().__init__(embed_dim, num_heads, dropout=0.0, batch_first=True)
        self.attention_dropout = GeneratorDropout(dropout)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        if not (self.training and self.attention_dropout.p > 0):
            return super().forward(query, key, value, key_padding_mask=key_padding_mask, need_weights=need_weights,
                                   attn_mask=attn_mask, average_attn_weights=average_attn_weights,
                                   is_causal=is_causal)
        if attn_mask is not None or is_causal or not (query is key is value):
            raise NotImplementedError("only unmasked self-attention has generator-drawn dropout")
        return self.attend(query, key_padding_mask), None

    def attend(self, x, key_padding_mask=None):
        """Self-attention of ``x`` (batch, tokens, embed_dim) with dropout on the attention probabilities.

        Parameters
        ----------
        x : torch.Tensor
            The tokens; queries, keys and values all come from them.
        key_padding_mask : torch.Tensor or None
            ``(batch, tokens)``: ``True`` (or ``-inf``) for the tokens not to attend to.

        Returns
        -------
        torch.Tensor
            Of the shape of ``x``.
        """
        n, length, _ = x.shape
        # in_proj_weight stacks the query, key and value projections, each
        # split into heads of head_dim columns, as torch lays them out.
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = qkv.view(n, length, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        if key_padding_mask is not None:
            mask = key_padding_mask[:, None, None, :]
            scores = scores.masked_fill(mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
        weights = self.attention_dropout(torch.softmax(scores, dim=-1))
        out = (weights @ v).transpose(1, 2).reshape(n, length, self.embed_dim)
        return self.out_proj(out)


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
        Dropout inside the encoder layers (on the attention probabilities
        and after the attention and feed-forward blocks), drawn from the
        fit's generator.

    Notes
    -----
    The forward pass takes either of two inputs:

    * a batch of fraction vectors, ``(n, n_features)``: it is padded to the
      largest number of elements present in any of its rows (finding that
      number reads one integer from the device) and the padding is masked;
    * groups of element tokens, a tuple of ``(fractions, elements)`` of
      shape ``(rows, length)`` each for rows that all have ``length``
      elements (:func:`~sklearn_hform._training._batching.element_tokens`),
      or ``(fractions, elements, padding)`` for a padded group: no read of
      the device, and no padding for exact groups. The output follows the
      groups' order. The trainer batches rows this way
      (``token_batches``), so the cost follows the compositions, not the
      94 columns nor the longest row of a batch.

    A row with nothing positive keeps its largest entry as its only token,
    so every row has an output.
    """

    #: Parameters that autocast casts to bfloat16 before use.
    autocast_prefixes = ("encoder.",)
    #: Trained and predicted on token groups of one element count each.
    token_batches = True
    #: A step on padded token batches of one width has one shape and no host reads.
    cuda_graph_safe = True
    #: Members are not stacked: torch.func.vmap of the token path is not tried.
    vmap_safe = False

    def __init__(self, n_features, d_model, n_heads, n_layers, dim_feedforward, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(n_features, d_model)
        self.fraction = nn.Sequential(nn.Linear(2, d_model), nn.GELU(), nn.Linear(d_model, d_model))
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        # torch's layers drop out through the global generator; these draw
        # from the generator of the fit (sklearn_hform._training._seeding.use_generator).
        for encoder_layer in self.encoder.layers:
            encoder_layer.self_attn = _SelfAttention(d_model, n_heads, dropout)
            for name in ("dropout", "dropout1", "dropout2"):
                setattr(encoder_layer, name, GeneratorDropout(dropout))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Sequential(nn.Linear(d_model, 2 * d_model), nn.GELU(), nn.Linear(2 * d_model, d_model),
                                  nn.GELU(), nn.Linear(d_model, 1))

    def forward(self, X):
        if isinstance(X, (tuple, list)):
            pooled = torch.cat([self.pool(*group) for group in X])
        else:
            fraction, element = element_tokens(X, max(int((X > 0).sum(dim=1).max()), 1))
            pooled = self.pool(fraction, element, padding_mask(fraction))
        with torch.autocast(pooled.device.type, enabled=False):
            return self.head(pooled).squeeze(-1)

    def pool(self, fraction, element, padding=None):
        """The encoded tokens of some rows, pooled by fraction: ``(rows, d_model)``, float32.

        Parameters
        ----------
        fraction : torch.Tensor of shape (rows, length)
        element : torch.Tensor of shape (rows, length), int64
        padding : torch.Tensor of shape (rows, length), bool, or None
            ``True`` at the padding tokens; ``None`` when every token exists.
        """
        x = fraction.clamp_min(0).float()
        code = torch.stack([x, torch.log(x.clamp_min(1e-8)) / 10], dim=-1)
        h = self.embedding(element) + self.fraction(code.to(self.embedding.weight.dtype))
        h = self.norm(self.encoder(h, src_key_padding_mask=padding))
        weight = x if padding is None else x * ~padding
        # Rows whose only token has fraction 0 are pooled evenly instead.
        evenly = torch.ones_like(x) if padding is None else (~padding).float()
        weight = torch.where(weight.sum(dim=1, keepdim=True) > 0, weight, evenly)
        weight = weight / weight.sum(dim=1, keepdim=True)
        return (h.float() * weight.unsqueeze(-1)).sum(dim=1)
