"""The fast data path: batches are slices of tensors resident on the device.

skorch's default path wraps the data in a per-sample ``Dataset`` and lets a
``DataLoader`` collate every batch from single rows, which costs more than the
forward and backward pass of a small MLP. Here the whole training set is
moved to the training device once per fit; an epoch is one random
permutation and a slice per batch. skorch's callbacks, history and
validation split keep working because these classes plug into skorch's own
``dataset``, ``train_split`` and ``iterator_*`` hooks.
"""

import numpy as np
import torch


class TensorData(torch.utils.data.Dataset):
    """Features and target as two tensors on one device.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or None
    device : str or torch.device, default="cpu"
    """

    def __init__(self, X, y=None, device="cpu"):
        # torch.tensor copies: callers may pass read-only (memory-mapped) arrays.
        self.X = torch.tensor(X, dtype=torch.float32, device=device)
        self.y = None if y is None else torch.tensor(y, dtype=torch.float32, device=device)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], (None if self.y is None else self.y[i])

    def take(self, index):
        """A new ``TensorData`` with the rows ``index`` (one gather, no copy back to host)."""
        out = TensorData.__new__(TensorData)
        out.X = self.X[index]
        out.y = None if self.y is None else self.y[index]
        return out


class TensorBatches:
    """Iterate over ``(X_batch, y_batch)`` slices of a :class:`TensorData`.

    Used as skorch's ``iterator_train`` and ``iterator_valid``: skorch builds
    one per epoch, so each training epoch draws a fresh permutation.

    Parameters
    ----------
    dataset : TensorData
    batch_size : int
    shuffle : bool, default=False
        Visit the rows in a random order (from torch's global generator,
        which the estimator seeds).
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        if not isinstance(dataset, TensorData):
            raise TypeError(f"TensorBatches needs TensorData, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        n = len(X)
        if self.shuffle:
            order = torch.randperm(n, device=X.device)
            X = X[order]
            y = None if y is None else y[order]
        for start in range(0, n, self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], (None if y is None else y[start:stop])


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
