"""The training step as a CUDA graph: captured once, replayed for every full batch.

A small network's step on a GPU is dozens of tiny kernels, each launched
from Python; launching costs more than computing. A CUDA graph records the
whole step (forward, backward, optimiser update) once and replays it with
one launch. What makes this safe:

* the batch is copied into static input buffers before each replay;
* the optimiser is built with ``capturable=True`` and its learning rate is
  a device tensor, so a schedule changes it between replays;
* gradients are released before capture, so the captured backward writes
  them afresh at every replay instead of accumulating;
* dropout generators of the module are registered with the graph, so each
  replay draws new masks;
* each batch shape gets its own graph; shapes past the budget (or seen
  too rarely to warm up, as the short last batch) take the eager step, on
  the same weights and optimiser state.

If capture fails, the fit continues eagerly with a warning.
"""

import warnings

import torch

from ._capabilities import module_capability

__all__ = ["CudaGraphStep", "graphs_possible"]

#: Eager steps on a side stream before capture (lets cuBLAS and the
#: allocator settle, as PyTorch's documentation recommends).
WARMUP_STEPS = 3


def graphs_possible(net):
    """Whether ``net`` (a :class:`~sklearn_hform._training.TensorNet`) may capture its training step.

    It may when it is asked to (``cuda_graphs``), trains on CUDA and its
    module declares ``cuda_graph_safe`` (see
    :mod:`sklearn_hform._training._capabilities`).
    """
    return (
        bool(getattr(net, "cuda_graphs", False))
        and torch.device(net.device).type == "cuda"
        and module_capability(net.module_, "cuda_graph_safe")
    )


def _shapes(batch):
    if torch.is_tensor(batch):
        return (tuple(batch.shape), batch.dtype)
    if isinstance(batch, (tuple, list)):
        return tuple(_shapes(b) for b in batch)
    return None


def _clone(batch):
    if torch.is_tensor(batch):
        return batch.clone()
    if isinstance(batch, (tuple, list)):
        return type(batch)(_clone(b) for b in batch)
    return batch


def _copy_into(static, batch):
    if torch.is_tensor(static):
        static.copy_(batch, non_blocking=True)
    elif isinstance(static, (tuple, list)):
        for s, b in zip(static, batch):
            _copy_into(s, b)


class _Captured:
    """One captured step: its graph, its static batch, its loss and the net attributes it set."""

    def __init__(self, graph, static, loss, captured):
        self.graph, self.static, self.loss, self.captured = graph, static, loss, captured


class CudaGraphStep:
    """Run a net's training steps, replaying a captured CUDA graph whenever the batch shape allows.

    One graph per batch shape, up to ``max_graphs`` of them (the full
    batches of a fit have one shape; a validation split or a data path with
    several shapes would add a graph each). A shape first takes :data:`WARMUP_STEPS` eager steps on a
    side stream, then is captured; shapes beyond ``max_graphs`` (the short
    last batches, say, when the full ones have filled the budget) take the
    eager step.

    Parameters
    ----------
    net : TensorNet
        Initialised, on a CUDA device, with a capturable optimiser.
    outputs : sequence of str, default=()
        Attributes of ``net`` that its ``get_loss`` sets to tensors during
        a step; after a replay they point at the captured tensors again.
    max_graphs : int, default=16
        Shapes captured at most; each graph keeps its own memory pool.
    """

    def __init__(self, net, outputs=(), max_graphs=16):
        self.net = net
        self.outputs = tuple(outputs)
        self.max_graphs = max_graphs
        self.graphs = {}
        self.warm = {}
        self.failed = False

    @property
    def graph(self):
        """The first captured graph, or None (what a single-shape fit captured)."""
        return next(iter(self.graphs.values())).graph if self.graphs else None

    def __call__(self, batch):
        """Take one training step on ``batch``; returns the loss (a device tensor)."""
        shape = _shapes(batch)
        step = self.graphs.get(shape)
        if step is not None:
            _copy_into(step.static, batch)
            step.graph.replay()
            for name, value in step.captured.items():
                setattr(self.net, name, value)
            return step.loss
        if self.failed or (shape not in self.warm and len(self.warm) >= self.max_graphs):
            return self.net.train_step(batch)["loss"]
        if self.warm.get(shape, 0) < WARMUP_STEPS:
            self.warm[shape] = self.warm.get(shape, 0) + 1
            return self._side_stream_step(batch)
        return self._capture(shape, batch)

    def _side_stream_step(self, batch):
        stream = torch.cuda.Stream(device=self.net.device)
        stream.wait_stream(torch.cuda.current_stream(self.net.device))
        with torch.cuda.stream(stream):
            loss = self.net.train_step(batch)["loss"]
        torch.cuda.current_stream(self.net.device).wait_stream(stream)
        return loss

    def _capture(self, shape, batch):
        net = self.net
        static = _clone(batch)
        graph = torch.cuda.CUDAGraph()
        generators = _dropout_generators(net.module_)
        if generators and not hasattr(graph, "register_generator_state"):
            # This torch cannot replay fresh dropout masks from a generator of our own.
            self.failed = True
            return net.train_step(batch)["loss"]
        for generator in generators:
            graph.register_generator_state(generator)
        # Each graph writes the gradients it allocates itself; an eager step
        # (skorch's train_step zeroes them to None first) allocates its own.
        net.optimizer_.zero_grad(set_to_none=True)
        try:
            with torch.cuda.graph(graph):
                Xi, yi = static
                y_pred = net.infer(Xi)
                loss = net.get_loss(y_pred, yi, X=Xi, training=True)
                loss.backward()
                net.optimizer_.step()
        except RuntimeError as exc:
            self.failed = True
            torch.cuda.synchronize(net.device)
            warnings.warn(f"CUDA graph capture failed, training on eagerly: {exc}", RuntimeWarning, stacklevel=2)
            net.optimizer_.zero_grad(set_to_none=True)
            return net.train_step(batch)["loss"]
        self.graphs[shape] = _Captured(graph, static, loss, {name: getattr(net, name) for name in self.outputs})
        # Capture records without running: replay runs this batch's step.
        graph.replay()
        return loss


def _dropout_generators(module):
    from ._seeding import fit_generator_layers

    # A stacked module lends its forward to a template kept outside the module tree.
    trees = [module, *getattr(module, "template", ())]
    found = []
    for tree in trees:
        for layer in fit_generator_layers(tree):
            g = layer.generator
            if g is not None and g.device.type == "cuda" and all(g is not f for f in found):
                found.append(g)
    return found
