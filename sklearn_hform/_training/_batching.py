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

__all__ = ["PREDICT_CHUNK", "ShuffleSplitTensors", "TensorBatches", "TensorData", "predict_in_chunks"]


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
        self.y = None if y is None else torch.tensor(y, dtype=torch.float32, device=device)
        self.w = None if sample_weight is None else torch.tensor(sample_weight, dtype=torch.float32, device=device)

    def __len__(self):
        return len(self.X)

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
        index = torch.as_tensor(order, device=dataset.X.device)
        return dataset.take(index[n_valid:]), dataset.take(index[:n_valid])


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
        for start in range(0, len(X), chunk):
            rows = X[start : start + chunk]
            padded[: len(rows)] = torch.as_tensor(rows, device=device)
            padded[len(rows) :] = 0
            out[start : start + len(rows)] = module(padded).float().reshape(chunk)[: len(rows)].cpu().numpy()
    return out
