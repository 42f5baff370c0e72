"""Many modules of one architecture as one vmapped model: stacked weights, data, batches and net.

Fitting K small networks one after the other leaves a GPU (and, less so, a
CPU) mostly idle: each step is too small to fill it. Here the K networks'
weights are stacked along a leading axis and one step runs all of them
through :func:`torch.func.vmap`: every member keeps its own initial weights,
its own rows (an index set), its own shuffle, its own sample weights and its
own optimiser state (the optimisers of this package update each weight
element by element, so one optimiser over stacked weights is K optimisers),
under one learning-rate schedule.

This module holds the torch and skorch side only; which estimators may be
trained this way, and how each is taken out again as an ordinary fitted
estimator, is :func:`sklearn_hform.neural_network.fit_stacked`'s business.
"""

import copy

import numpy as np
import torch
from torch import nn

from ._batching import TensorBatches, TensorData
from ._capabilities import module_capability
from ._tensor_net import TensorNet

__all__ = ["StackedBatches", "StackedData", "StackedModule", "StackedNet"]


class StackedModule(nn.Module):
    """K modules of one architecture as one: stacked weights, run through :func:`torch.func.vmap`.

    The input has shape ``(K, n, n_features)`` (member ``k`` sees
    ``X[k]``), the output ``(K, n)``.

    Parameters
    ----------
    modules : list of torch.nn.Module
        Same class and shapes; their current weights become the stack.
    """

    def __init__(self, modules):
        super().__init__()
        from torch.func import stack_module_state

        params, buffers = stack_module_state(modules)
        self.names = list(params)
        self.buffer_names = list(buffers)
        self.weights = nn.ParameterList(nn.Parameter(params[n].detach().clone()) for n in self.names)
        for i, name in enumerate(self.buffer_names):
            self.register_buffer(f"buffer_{i}", buffers[name].detach().clone())
        # Kept out of the module tree: it only lends its forward to vmap.
        self.template = [copy.deepcopy(modules[0]).to("meta")]
        self.n_members = len(modules)
        # Vmapped already; whether its step may be captured is the members' say.
        self.vmap_safe = True
        self.cuda_graph_safe = module_capability(modules[0], "cuda_graph_safe")

    def train(self, mode=True):
        self.template[0].train(mode)
        return super().train(mode)

    def _buffers_dict(self):
        return {name: getattr(self, f"buffer_{i}") for i, name in enumerate(self.buffer_names)}

    def forward(self, X):
        from torch.func import functional_call, vmap

        template = self.template[0]

        def one(params, buffers, x):
            return functional_call(template, (params, buffers), (x,))

        params = dict(zip(self.names, self.weights))
        return vmap(one, randomness="different")(params, self._buffers_dict(), X)

    def member_state(self, k):
        """The ``state_dict`` of member ``k``, on the CPU."""
        state = {n: w[k].detach().to("cpu").clone() for n, w in zip(self.names, self.weights)}
        state.update({n: b[k].detach().to("cpu").clone() for n, b in self._buffers_dict().items()})
        return state


class StackedData(TensorData):
    """A :class:`~sklearn_hform._training.TensorData` with one index set (and weights) per member.

    Parameters
    ----------
    X, y : array-like
        All rows, once.
    index_sets : list of array-like of int
        The rows each member trains on.
    weights : list of array-like or None
        Each member's sample weights over its index set (mean 1), or ``None``.
    device : str
    """

    def __init__(self, X, y, index_sets, weights, device):
        super().__init__(X, y, device)
        self.index_sets = [torch.as_tensor(np.asarray(i), dtype=torch.long, device=device) for i in index_sets]
        self.weights = [None if w is None else torch.as_tensor(w, dtype=torch.float32, device=device)
                        for w in weights]

    def __len__(self):
        return max(len(i) for i in self.index_sets)


class StackedBatches(TensorBatches):
    """The batches of a :class:`StackedData`: each member's rows in its own random order.

    Member ``k`` visits its index set in the order of a permutation drawn
    from ``generator[k]`` each epoch and sliced into batches, exactly as
    :class:`~sklearn_hform._training.TensorBatches` does for a single fit.
    Members with fewer rows are padded with rows of weight 0, and marked
    inactive for the steps they would not have taken at all.

    Batches are ``(X, (y, w, count, active))`` with ``X`` of shape
    ``(K, batch_size, n_features)``, ``y`` and ``w`` of shape
    ``(K, batch_size)``, ``count`` the real rows per member (a tensor) and
    ``active`` a host-side boolean array.
    """

    def __init__(self, dataset, batch_size, shuffle=True, generator=None):
        if not isinstance(dataset, StackedData):
            raise TypeError(f"StackedBatches needs StackedData, got {type(dataset).__name__}")
        super().__init__(dataset, batch_size, shuffle=shuffle, generator=generator)

    def __iter__(self):
        data, b = self.dataset, self.batch_size
        device = data.X.device
        sizes = np.array([len(i) for i in data.index_sets])
        steps = -(-sizes // b)
        width = int(steps.max()) * b
        rows = torch.zeros((len(sizes), width), dtype=torch.long, device=device)
        weight = torch.zeros((len(sizes), width), dtype=torch.float32, device=device)
        for k, index in enumerate(data.index_sets):
            order = torch.arange(len(index), device=device)
            if self.shuffle:
                order = torch.randperm(len(index), device=device, generator=self.generator[k])
            rows[k, : len(index)] = index[order]
            weight[k, : len(index)] = 1 if data.weights[k] is None else data.weights[k][order]
        sizes_t = torch.as_tensor(sizes, device=device)
        for step in range(int(steps.max())):
            cols = slice(step * b, (step + 1) * b)
            index = rows[:, cols]
            count = (sizes_t - step * b).clamp(0, b)
            yield data.X[index], (data.y[index], weight[:, cols], count, steps > step)


class StackedNet(TensorNet):
    """A :class:`~sklearn_hform._training.TensorNet` over a :class:`StackedModule`.

    The loss is the sum of the members' own mean losses, so each member's
    weights get the gradient of its own loss. ``history`` records
    ``train_loss`` (the members' mean) and ``train_member_loss`` (one per
    member) each epoch. Members inactive in a step keep their weights and
    optimiser state through it.
    """

    graph_outputs = ("member_loss_",)

    def infer(self, x, **fit_params):
        device_type = torch.device(self.device).type
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.autocast_bfloat16, cache_enabled=False):
            return super(TensorNet, self).infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y, weight, count, _ = y_true
        per_row = self.criterion_(y_pred.float(), y) * weight
        member = per_row.sum(dim=1) / count.clamp_min(1)
        self.member_loss_ = member.detach()
        return member.sum()

    def train_step(self, batch, **fit_params):
        active = batch[1][3]
        if active.all():
            return super().train_step(batch, **fit_params)
        frozen = torch.as_tensor(~active, device=self.device)
        params = list(self.module_.parameters())
        kept = [p.detach()[frozen].clone() for p in params]
        states = [self.optimizer_.state.get(p, {}) for p in params]
        kept_state = [{k: v[frozen].clone() for k, v in s.items() if torch.is_tensor(v) and v.shape == p.shape}
                      for p, s in zip(params, states)]
        step = super().train_step(batch, **fit_params)
        with torch.no_grad():
            for p, old, s, old_s in zip(params, kept, states, kept_state):
                p[frozen] = old
                for k, v in old_s.items():
                    self.optimizer_.state[p][k][frozen] = v
        return step

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        total = None
        rows = torch.zeros((), device=self.device)
        batches = 0
        graphed = self.training_step_fn(step_fn)
        for batch in iterator:
            # Steps in which some member sits out restore that member: eager.
            if batch[1][3].all():
                graphed(batch, **fit_params)
            else:
                step_fn(batch, **fit_params)
            count = batch[1][2].float()
            loss = self.member_loss_ * count
            total = loss if total is None else total + loss
            rows = rows + count
            batches += 1
        member = (total / rows.clamp_min(1)).tolist()
        self.history.new_batch()
        self.history.record_batch(f"{prefix}_loss", float(np.mean(member)))
        self.history.record_batch(f"{prefix}_batch_size", 1)
        self.history.record(f"{prefix}_member_loss", member)
        self.history.record(f"{prefix}_batch_count", batches)
