"""The skorch net every torch estimator of this package trains through.

:class:`TensorNet` is skorch's :class:`~skorch.regressor.NeuralNetRegressor`
with four changes, each through one of skorch's own hooks:

* ``infer`` runs the module under bfloat16 autocast when asked to;
* ``get_loss`` weights each row's loss when the batch carries sample weights;
* ``run_single_epoch`` keeps the epoch's loss on the device and reads it once
  per epoch instead of once per batch (a host sync per step costs more than
  the step of a small network on a GPU); callbacks that act on single
  batches get them through skorch's own loop instead;
* the module's output may be a column, and is flattened to match ``y``.
"""

import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback, LRScheduler
from skorch.dataset import unpack_data

__all__ = ["LOSS_CLASSES", "OPTIMIZER_CLASSES", "TensorNet", "make_net"]

#: torch classes of the names ``BaseTorchRegressor`` accepts for ``optimizer`` and ``loss``.
OPTIMIZER_CLASSES = {"rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
LOSS_CLASSES = {"l1": torch.nn.L1Loss, "mse": torch.nn.MSELoss}

_BATCH_EVENTS = ("on_batch_begin", "on_batch_end")
# A captured step skips skorch's per-step notifications as well.
_STEP_EVENTS = _BATCH_EVENTS + ("on_grad_computed",)


def _acts_on_batches(callback, events=_BATCH_EVENTS):
    if isinstance(callback, LRScheduler):
        return callback.step_every == "batch"
    return any(getattr(type(callback), e) is not getattr(Callback, e) for e in events)


def _rows(X):
    """Rows in a batch's features: a tensor, or groups of element tokens (see ``token_batches``)."""
    return sum(len(group[0]) for group in X) if isinstance(X, (tuple, list)) else len(X)


class TensorNet(NeuralNetRegressor):
    """skorch regressor over :mod:`sklearn_hform._training._batching` tensors.

    Parameters
    ----------
    *args, **kwargs
        As :class:`skorch.regressor.NeuralNetRegressor`. The criterion must
        be built with ``reduction="none"``: the net reduces the per-row
        losses itself, weighting them when sample weights are present.
    mixed_precision : bool or "auto", default=False
        Run the module under bfloat16 autocast (float32 accumulation);
        ``"auto"``: where a few passes on a batch of the data measure it
        faster than float32 (:func:`~sklearn_hform._training._precision.choose_precision`),
        the measurement kept as ``precision_choice_``.
    cuda_graphs : bool, default=False
        On CUDA, replay full batches' training steps from a captured graph
        (:mod:`sklearn_hform._training._cuda_graphs`) when the module declares
        ``cuda_graph_safe`` and no callback acts on single steps. Needs an
        optimiser built with ``capturable=True``.
    """

    #: Attributes ``get_loss`` sets during a step (see :class:`~sklearn_hform._training.CudaGraphStep`).
    graph_outputs = ()

    def __init__(self, *args, mixed_precision=False, cuda_graphs=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.mixed_precision = mixed_precision
        self.cuda_graphs = cuda_graphs

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        from ._cuda_graphs import graphs_possible

        self.graph_step_ = None
        if graphs_possible(self):
            # A captured step reads the learning rate from device memory,
            # where the schedule's updates (fill_) reach it.
            for group in self.optimizer_.param_groups:
                group["lr"] = torch.tensor(float(group["lr"]), device=self.device)
        return self

    def training_step_fn(self, step_fn):
        """The function that takes a training step in the fast epoch loop: a CUDA graph where possible."""
        from ._cuda_graphs import CudaGraphStep, graphs_possible

        if not graphs_possible(self) or any(_acts_on_batches(cb, _STEP_EVENTS) for _, cb in self.callbacks_):
            return lambda batch, **kw: step_fn(batch, **kw)["loss"]
        if self.graph_step_ is None:
            self.graph_step_ = CudaGraphStep(self, outputs=self.graph_outputs)
        return lambda batch, **kw: self.graph_step_(batch)

    @property
    def autocast_bfloat16(self):
        """Whether steps run under bfloat16 autocast: ``mixed_precision``, with ``"auto"`` as measured."""
        if self.mixed_precision == "auto":
            return bool(getattr(self, "precision_choice_", {}).get("mixed_precision", False))
        return bool(self.mixed_precision)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        if self.mixed_precision == "auto":
            from ._precision import choose_precision

            # Drawn without shuffling: the fit's random streams stay those of a fit without "auto".
            options = {**self.get_params_for("iterator_train"), "shuffle": False, "generator": None}
            batch = self.iterator_train(X, batch_size=self.batch_size, **options).typical_batch()
            self.precision_choice_ = choose_precision(self.module_, batch, self.device)
        return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def infer(self, x, **fit_params):
        device_type = torch.device(self.device).type
        # No autocast weight cache: a captured graph must cast at every replay.
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.autocast_bfloat16, cache_enabled=False):
            y = super().infer(x, **fit_params)
        return y.reshape(len(y)) if y.ndim == 2 and y.shape[1] == 1 else y

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_true, (tuple, list)):
            y_true, weight = y_true
            return (self.criterion_(y_pred.float(), y_true) * weight).mean()
        return self.criterion_(y_pred.float(), y_true).mean()

    def train_step_single(self, batch, **fit_params):
        # skorch switches every module to train mode again for each batch, a
        # walk over the module tree that costs as much as a small layer;
        # only a change of mode needs it.
        if not (self.module_.training and self.criterion_.training):
            self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        if any(_acts_on_batches(cb) for _, cb in self.callbacks_):
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        total = torch.zeros((), device=self.device)
        rows = batches = 0
        if training:
            take_step = self.training_step_fn(step_fn)
        else:
            def take_step(batch, **kw):
                return step_fn(batch, **kw)["loss"]
        for batch in iterator:
            loss = take_step(batch, **fit_params)
            n = _rows(batch[0])
            total += loss.detach().float() * n
            rows += n
            batches += 1
        # One entry standing for the whole epoch keeps skorch's own scoring
        # (a size-weighted mean over batch entries) and EarlyStopping exact.
        self.history.new_batch()
        self.history.record_batch(f"{prefix}_loss", total.item() / max(rows, 1))
        self.history.record_batch(f"{prefix}_batch_size", rows)
        self.history.record(f"{prefix}_batch_count", batches)


def make_net(module, *, optimizer, loss, lr, weight_decay, batch_size, max_epochs, validation_fraction, seed,
             generator, callbacks, device, verbose, mixed_precision, cuda_graphs=False, net_class=None):
    """The :class:`TensorNet` that trains ``module`` on :mod:`~sklearn_hform._training._batching` tensors.

    Parameters
    ----------
    module : torch.nn.Module
        Initialised, on the CPU. One that declares ``token_batches`` trains
        on :class:`~sklearn_hform._training._batching.TokenData` in
        :class:`~sklearn_hform._training._batching.ElementCountBatches`
        (one padded width per batch when its steps are captured).
    optimizer, loss : str
        Keys of :data:`OPTIMIZER_CLASSES` and :data:`LOSS_CLASSES`.
    lr, weight_decay : float
    batch_size, max_epochs : int
    validation_fraction : float or None
    seed : int
        Seed of the validation split.
    generator : torch.Generator
        On ``device``; draws the shuffles.
    callbacks : list of (str, Callback)
    device : str
    verbose : int
    mixed_precision : bool or "auto"
    cuda_graphs : bool, default=False
        On CUDA: capturable optimiser and graph-replayed steps (see :class:`TensorNet`).
    net_class : type, default=None
        A subclass of :class:`TensorNet` to build instead.

    Returns
    -------
    TensorNet
    """
    from ._batching import ElementCountBatches, ShuffleSplitTensors, TensorBatches, TensorData, TokenData
    from ._capabilities import module_capability

    # One multi-tensor update per step instead of a Python loop over the
    # parameter tensors (on a GPU, one fused kernel instead of dozens).
    optimizer_kwargs = {"weight_decay": weight_decay, "foreach": True}
    cuda_graphs = bool(cuda_graphs) and device.startswith("cuda")
    if cuda_graphs:
        optimizer_kwargs["capturable"] = True
    split = None if validation_fraction is None else ShuffleSplitTensors(validation_fraction, seed)
    # A module that takes element tokens gets its batches grouped by element
    # count; a captured step needs one shape, so then one padded width.
    tokens = module_capability(module, "token_batches")
    batches = ElementCountBatches if tokens else TensorBatches
    static = {"iterator_train__static_width": True} if tokens and cuda_graphs and module_capability(
        module, "cuda_graph_safe") else {}
    return (net_class or TensorNet)(
        module=module,
        criterion=LOSS_CLASSES[loss],
        criterion__reduction="none",
        optimizer=OPTIMIZER_CLASSES[optimizer],
        lr=lr,
        **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        batch_size=batch_size,
        max_epochs=max_epochs,
        train_split=split,
        dataset=TokenData if tokens else TensorData,
        dataset__device=device,
        iterator_train=batches,
        iterator_train__shuffle=True,
        iterator_train__generator=generator,
        iterator_valid=batches,
        **static,
        callbacks=callbacks,
        device=device,
        verbose=verbose,
        mixed_precision=mixed_precision,
        cuda_graphs=cuda_graphs,
    )
