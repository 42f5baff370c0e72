"""The fast data path: batches are slices of tensors resident on the training device.

skorch's default path wraps the data in a per-sample ``Dataset`` and lets a
``DataLoader`` collate every batch from single rows, which costs more than the
forward and backward pass of a small network. Here the whole training set is
moved to the device once per fit; an epoch is one random permutation (drawn
on the device, from the fit's own generator) and a slice per batch. skorch's
callbacks, history and validation split keep working because these classes
plug into skorch's own ``dataset``, ``train_split`` and ``iterator_*`` hooks.
"""

import numpy as np
import torch

from ._capabilities import module_capability

__all__ = ["PREDICT_CHUNK", "ElementCountBatches", "ShuffleSplitTensors", "TensorBatches", "TensorData", "TokenData",
           "element_tokens", "padding_mask", "predict_in_chunks", "token_lengths"]


class TensorData(torch.utils.data.Dataset):
    """Features, target and optional sample weights as tensors on one device.

    Batches are ``(X, y)``, or ``(X, (y, w))`` when weights are given.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or None
    device : str or torch.device, default="cpu"
    sample_weight : array-like of shape (n_samples,) or None, default=None
    """

    def __init__(self, X, y=None, device="cpu", sample_weight=None):
        # torch.tensor copies: callers may pass read-only (memory-mapped) arrays.
        self.X = torch.tensor(X, dtype=torch.float32, device=device)
        self._set_targets(y, sample_weight, device)

    def _set_targets(self, y, sample_weight, device):
        self.y = None if y is None else torch.tensor(y, dtype=torch.float32, device=device)
        self.w = None if sample_weight is None else torch.tensor(sample_weight, dtype=torch.float32, device=device)

    def __len__(self):
        return len(self.X)

    @property
    def device(self):
        """The device the rows live on."""
        return self.X.device

    def target(self, index):
        """The target part of a batch: ``y[index]`` or ``(y[index], w[index])``."""
        if self.y is None:
            return None
        return self.y[index] if self.w is None else (self.y[index], self.w[index])

    def __getitem__(self, i):
        return self.X[i], self.target(i)

    def take(self, index):
        """A new ``TensorData`` with the rows ``index`` (one gather, no copy back to host)."""
        out = TensorData.__new__(TensorData)
        out.X = self.X[index]
        out.y = None if self.y is None else self.y[index]
        out.w = None if self.w is None else self.w[index]
        return out


class TensorBatches:
    """Iterate over the batches of a :class:`TensorData`.

    Used as skorch's ``iterator_train`` and ``iterator_valid``: skorch builds
    one per epoch, so each training epoch draws a fresh permutation.

    Parameters
    ----------
    dataset : TensorData
    batch_size : int
    shuffle : bool, default=False
        Visit the rows in a random order.
    generator : torch.Generator or None, default=None
        Source of the permutation, on the data's device; ``None`` uses
        torch's global generator.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None):
        if not isinstance(dataset, TensorData):
            raise TypeError(f"TensorBatches needs TensorData, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def typical_batch(self):
        """The features of a batch as training takes them, drawn without randomness (the first one)."""
        return next(iter(self))[0]

    def __iter__(self):
        data = self.dataset
        n = len(data)
        if self.shuffle:
            data = data.take(torch.randperm(n, device=data.X.device, generator=self.generator))
        for start in range(0, n, self.batch_size):
            rows = slice(start, start + self.batch_size)
            yield data.X[rows], data.target(rows)


class ShuffleSplitTensors:
    """skorch ``train_split``: hold out a random fraction of a :class:`TensorData`.

    Parameters
    ----------
    fraction : float
        Share of the rows held out for validation.
    seed : int
        Seed of the split.
    """

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, dataset, y=None, **fit_params):
        n = len(dataset)
        n_valid = int(round(self.fraction * n))
        if not 0 < n_valid < n:
            raise ValueError(
                f"validation_fraction={self.fraction} leaves no rows for training "
                f"or validation out of {n} samples"
            )
        order = np.random.default_rng(self.seed).permutation(n)
        index = torch.as_tensor(order, device=dataset.device)
        return dataset.take(index[n_valid:]), dataset.take(index[:n_valid])


def token_lengths(X):
    """How many tokens each row of a fraction matrix has: its positive entries, at least one.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples,), dtype int64
    """
    return np.maximum(np.count_nonzero(np.asarray(X) > 0, axis=1), 1).astype(np.int64)


def element_tokens(X, n_tokens):
    """The ``n_tokens`` largest entries of each row of ``X`` and their columns: a row's elements as tokens.

    A row with fewer positive entries than ``n_tokens`` is filled up with
    zero-fraction tokens, which a module masks; a row with none keeps its
    largest entry as its one token.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
    n_tokens : int
        Known on the host: choosing it from the data would read the device.

    Returns
    -------
    fractions : torch.Tensor of shape (n_samples, n_tokens), X's dtype
    elements : torch.Tensor of shape (n_samples, n_tokens), int64
        Column indices, in decreasing order of the fraction.
    """
    return X.topk(n_tokens, dim=1)


def padding_mask(fractions):
    """``True`` at the padding tokens of :func:`element_tokens`' fractions; a row's first token always counts."""
    present = fractions > 0
    present[:, 0] = True
    return ~present


class TokenData(TensorData):
    """Training rows as element tokens, with each row's token count known on the host.

    What :class:`ElementCountBatches` batches for a module that declares
    ``token_batches`` (see :mod:`sklearn_hform._training._capabilities`):
    each row is stored as the ``(fractions, elements)`` of
    :func:`element_tokens`, as wide as the longest row, and its length
    (:func:`token_lengths`) is kept as a NumPy array, so the rows of a
    batch can be grouped by length and sliced to exactly their tokens
    without reading the device.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Element fractions.
    y : array-like of shape (n_samples,) or None
    device : str or torch.device, default="cpu"
    sample_weight : array-like of shape (n_samples,) or None, default=None
    """

    def __init__(self, X, y=None, device="cpu", sample_weight=None):
        X = np.asarray(X, dtype=np.float32)
        self.lengths = token_lengths(X)
        self.fractions, self.elements = element_tokens(torch.tensor(X, device=device), self.width)
        self._set_targets(y, sample_weight, device)

    def __len__(self):
        return len(self.lengths)

    @property
    def width(self):
        """The token count of the longest row."""
        return int(self.lengths.max()) if len(self.lengths) else 1

    @property
    def device(self):
        return self.fractions.device

    def __getitem__(self, i):
        n = int(self.lengths[i])
        return (self.fractions[i, :n], self.elements[i, :n]), self.target(i)

    def take(self, index):
        """A new ``TokenData`` with the rows ``index``.

        ``index`` is a NumPy array or a device tensor; a tensor is read back
        once, for the lengths.
        """
        if torch.is_tensor(index):
            host = index.cpu().numpy()
        else:
            host, index = np.asarray(index), torch.as_tensor(index, device=self.device)
        out = TokenData.__new__(TokenData)
        out.lengths = self.lengths[host]
        out.fractions, out.elements = self.fractions[index], self.elements[index]
        out.y = None if self.y is None else self.y[index]
        out.w = None if self.w is None else self.w[index]
        return out


class ElementCountBatches:
    """Random batches of rows, each regrouped by element count so that every token computed exists.

    Used as skorch's ``iterator_train`` and ``iterator_valid`` over a
    :class:`TokenData`. The rows of each batch are those
    :class:`TensorBatches` would give: one permutation per epoch, drawn on
    the device from ``generator``, sliced into ``batch_size`` rows, so an
    epoch sees every row once and each step's rows are a uniform random
    sample, as before. (Batches drawn from rows of one element count are
    faster still, but their steps see only binaries, or only ternaries, and
    a seeded 5-epoch fit on 50,000 rows ended 17 % worse; see
    ``benchmarks/bench_transformer.py``.) Inside a batch the rows are
    grouped by their number of elements, each group sliced to exactly its
    tokens: no padding, no mask, and every length known on the host, so
    nothing is read back from the device in the step.

    A batch is ``(groups, target)``: ``groups`` a tuple of
    ``(fractions, elements)`` of shape ``(rows, length)`` each, in
    increasing length, and ``target`` the rows' targets in the same order.

    With ``static_width`` every batch is instead one group as wide as the
    longest row of the data, padded, with its padding mask:
    ``((fractions, elements, padding),)``. Then all full batches have one
    shape, which a CUDA graph can replay.

    Parameters
    ----------
    dataset : TokenData
    batch_size : int
    shuffle : bool, default=False
    generator : torch.Generator or None, default=None
        On the data's device; ``None`` uses torch's global generator.
    static_width : bool, default=False
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None, static_width=False):
        if not isinstance(dataset, TokenData):
            raise TypeError(f"ElementCountBatches needs TokenData, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.static_width = static_width

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def plan(self):
        """The epoch's row order and, per batch, its groups as ``(start, stop, length)`` in that order."""
        lengths = self.dataset.lengths
        n = len(lengths)
        if self.shuffle:
            order = torch.randperm(n, device=self.dataset.device, generator=self.generator).cpu().numpy()
        else:
            order = np.arange(n)
        batches = []
        for first in range(0, n, self.batch_size):
            rows = order[first : first + self.batch_size]
            if self.static_width:
                batches.append([(first, first + len(rows), self.dataset.width)])
                continue
            # A stable sort keeps the batch's random order inside each length.
            rows = rows[np.argsort(lengths[rows], kind="stable")]
            order[first : first + len(rows)] = rows
            groups, start = [], first
            for length, count in zip(*np.unique(lengths[rows], return_counts=True)):
                groups.append((start, start + int(count), int(length)))
                start += int(count)
            batches.append(groups)
        return order, batches

    def _groups(self, data, groups):
        if self.static_width:
            (start, stop, width), = groups
            fractions = data.fractions[start:stop, :width]
            return ((fractions, data.elements[start:stop, :width], padding_mask(fractions)),)
        return tuple((data.fractions[a:b, :k], data.elements[a:b, :k]) for a, b, k in groups)

    def typical_batch(self):
        """The groups of a batch, drawn without randomness (the first one)."""
        order, batches = self.plan()
        data = self.dataset.take(order[: self.batch_size])
        return self._groups(data, batches[0])

    def __iter__(self):
        order, batches = self.plan()
        data = self.dataset.take(order)
        for groups in batches:
            yield self._groups(data, groups), data.target(slice(groups[0][0], groups[-1][1]))


#: Bounds of the rows per forward pass when predicting on the CPU, and the rows per pass on accelerators.
PREDICT_CHUNK = {"cpu_min": 256, "cpu_max": 8192, "other": 8192}


def predict_in_chunks(module, X, device, mixed_precision=False, batch_size=1024):
    """``module``'s output for a float32 array, in chunks, without gradients.

    Every chunk is padded to the same number of rows, so the matrix kernels
    see one shape whatever the input's length, and a row's prediction does
    not depend on which other rows are predicted with it (kernels chosen by
    shape round differently, visibly so in bfloat16). On the CPU a chunk is
    the training batch size (within :data:`PREDICT_CHUNK`'s bounds): the
    shape sklearn-hform 0.1 predicted with, so saved models keep their
    predictions.

    Parameters
    ----------
    module : torch.nn.Module
        On ``device``; put in eval mode.
    X : ndarray of shape (n_samples, n_features), dtype float32
    device : str
    mixed_precision : bool, default=False
        Run under bfloat16 autocast, as the module was trained.
    batch_size : int, default=1024
        The training batch size.

    Returns
    -------
    ndarray of shape (n_samples,), dtype float64
    """
    module.eval()
    device_type = torch.device(device).type
    if device_type == "cpu":
        chunk = min(max(int(batch_size), PREDICT_CHUNK["cpu_min"]), PREDICT_CHUNK["cpu_max"])
    else:
        chunk = PREDICT_CHUNK["other"]
    padded = torch.zeros((chunk, X.shape[1]), dtype=torch.float32, device=device)
    out = np.empty(len(X))
    with torch.inference_mode(), torch.autocast(device_type, dtype=torch.bfloat16, enabled=mixed_precision):
        if module_capability(module, "token_batches"):
            # Rows of one token count together, each chunk sliced to exactly
            # its tokens: (chunk, length) is still one shape per length.
            lengths = token_lengths(X)
            for length in np.unique(lengths):
                rows_of_length = np.flatnonzero(lengths == length)
                for start in range(0, len(rows_of_length), chunk):
                    index = rows_of_length[start : start + chunk]
                    _fill(padded, X[index], device)
                    group = element_tokens(padded, int(length))
                    out[index] = module((group,)).float().reshape(chunk)[: len(index)].cpu().numpy()
        else:
            for start in range(0, len(X), chunk):
                rows = X[start : start + chunk]
                _fill(padded, rows, device)
                out[start : start + len(rows)] = module(padded).float().reshape(chunk)[: len(rows)].cpu().numpy()
    return out


def _fill(padded, rows, device):
    """Copy ``rows`` into the top of ``padded`` and zero the rest."""
    # A copy: torch warns about (and cannot promise anything for) read-only arrays.
    padded[: len(rows)] = torch.from_numpy(np.array(rows, dtype=np.float32)).to(device)
    padded[len(rows) :] = 0
