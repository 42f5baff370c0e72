"""The base class of this package's torch regressors: training, seeding, saving.

A network joins the package as one subclass that declares its architecture
parameters and builds its module in :meth:`BaseTorchRegressor.build_module`;
everything else lives here (see the developer guide). torch and skorch are
imported when a model is trained, predicts or is restored, not on import.
"""

import numbers
from abc import ABCMeta, abstractmethod

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .._training._devices import check_device, cuda_visible, resolve_device
from ..persistence._module_state import ModuleStateMixin
from ..utils._constraints import Interval, StrOptions
from ..utils._validation import normalized_weights, validate_fit_inputs
from ._parameter_docs import document_training_parameters

__all__ = ["BaseTorchRegressor", "LOSSES", "LR_SCHEDULES", "OPTIMIZERS", "PREDICT_PRECISIONS", "TRAINING_PARAMETERS"]

#: Optimiser names accepted by ``optimizer``.
OPTIMIZERS = ("rmsprop", "adam", "adamw")
#: Loss names accepted by ``loss``.
LOSSES = ("l1", "mse")
#: Learning-rate schedules accepted by ``lr_schedule``.
LR_SCHEDULES = ("cosine", "warmup_cosine", "constant")
#: Arithmetic accepted by ``predict_precision``.
PREDICT_PRECISIONS = ("float32", "bfloat16")


@document_training_parameters()
class BaseTorchRegressor(ModuleStateMixin, RegressorMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class for torch regressors: subclass it and implement :meth:`build_module`.

    Do not instantiate this class directly. A subclass declares its
    architecture parameters in its own ``__init__`` together with the
    training parameters below (scikit-learn reads every parameter from the
    signature), passes the latter to ``super().__init__`` and returns a
    fresh :class:`torch.nn.Module` from :meth:`build_module`. The module maps
    a float32 batch of shape ``(n, n_features)`` to ``(n,)`` (or ``(n, 1)``).
    Decorate the subclass with :func:`document_training_parameters` and put
    the line ``{training_parameters}`` in its ``Parameters`` section to
    document the training parameters with its own defaults.

    The trainer contract (the developer guide's "The trainer contract"
    tells it in full): a network provides :meth:`build_module`, optionally
    :meth:`initialize_module`, and on its module the flags ``vmap_safe``
    and ``cuda_graph_safe`` and the tuple ``autocast_prefixes``; layers that
    draw random numbers declare ``uses_fit_generator``. A single fit
    (:meth:`fit`) and many networks trained as one
    (:func:`~sklearn_hform.neural_network.fit_stacked`) both go through
    :meth:`validate_fit_data`, :meth:`fit_seed`, :meth:`initial_module`
    (:meth:`build_module`, :meth:`initialize_module`), :meth:`net_kwargs`
    (:meth:`build_callbacks`) and :meth:`set_fitted_module`. :meth:`fit`
    and :meth:`build_net` belong to the single fit alone: a class that
    overrides either is trained one network at a time.

    Parameters
    ----------
    {training_parameters}

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network, in eval mode, on ``device_``.
    net_ : skorch.regressor.NeuralNetRegressor
        The skorch net that trained it, with its per-epoch ``history``;
        present after :meth:`fit` (a restored model has ``module_`` only).
    device_ : str
        The device ``module_`` lives and predicts on.
    n_iter_ : int
        Epochs run by the last fit.
    training_precision_ : {"float32", "bfloat16"}
        What the last fit trained in (with ``mixed_precision="auto"``, what
        it measured faster).
    precision_choice_ : dict
        With ``mixed_precision="auto"``: the measurement behind the choice
        (``float32_s`` and ``bfloat16_s`` per pass, ``mixed_precision``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When fitted on a DataFrame with string column names.
    """

    _parameter_constraints = {
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "mixed_precision": ["boolean", StrOptions({"auto"})],
        "predict_precision": [StrOptions(set(PREDICT_PRECISIONS))],
        "cuda_graphs": ["boolean"],
        "loss": [StrOptions(set(LOSSES))],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [str],
    }

    @abstractmethod
    def __init__(self, *, optimizer, lr, lr_schedule, weight_decay, mixed_precision, predict_precision, cuda_graphs,
                 loss, batch_size, max_epochs, validation_fraction, n_iter_no_change, callbacks, warm_start,
                 random_state, verbose, device):
        self.optimizer = optimizer
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.mixed_precision = mixed_precision
        self.predict_precision = predict_precision
        self.cuda_graphs = cuda_graphs
        self.loss = loss
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    @staticmethod
    def training_arguments(namespace):
        """The training parameters in ``namespace``, a subclass ``__init__``'s ``locals()``, as keyword arguments.

        A subclass lists every parameter in its signature (``get_params``
        reads it there), stores its own and hands these on in one line,
        ``super().__init__(**self.training_arguments(locals()))``; a
        ``TypeError`` names any training parameter the signature lacks.
        """
        missing = [name for name in TRAINING_PARAMETERS if name not in namespace]
        if missing:
            raise TypeError(f"__init__ must take every training parameter of BaseTorchRegressor; "
                            f"missing: {', '.join(missing)}")
        return {name: namespace[name] for name in TRAINING_PARAMETERS}

    @abstractmethod
    def build_module(self, n_features):
        """A fresh, untrained ``torch.nn.Module`` for inputs of width ``n_features``.

        Parameters
        ----------
        n_features : int

        Returns
        -------
        torch.nn.Module
        """

    def initialize_module(self, module, generator):
        """Draw the module's initial weights from the fit's ``generator``.

        The default handles linear, convolution, embedding, attention and
        normalisation layers with torch's default distributions; override
        it for other layers or another initialisation.

        Parameters
        ----------
        module : torch.nn.Module
        generator : torch.Generator
            On the CPU, seeded from ``random_state``.
        """
        from .._training._seeding import initialize_parameters

        initialize_parameters(module, generator)

    def build_callbacks(self, seed):
        """The skorch callbacks of a fit: schedule, early stopping, then ``callbacks``.

        Parameters
        ----------
        seed : int
            The fit's seed.

        Returns
        -------
        list of (str, skorch Callback)
        """
        import torch
        from skorch.callbacks import EarlyStopping, LRScheduler

        callbacks = []
        if self.lr_schedule == "cosine":
            schedule = LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=self.max_epochs)
            callbacks.append(("lr_schedule", schedule))
        elif self.lr_schedule == "warmup_cosine":
            from .._training._schedules import WarmupCosine

            schedule = LRScheduler(torch.optim.lr_scheduler.LambdaLR, lr_lambda=WarmupCosine(self.max_epochs))
            callbacks.append(("lr_schedule", schedule))
        if self.validation_fraction is not None and self.n_iter_no_change is not None:
            callbacks.append(("early_stopping", EarlyStopping(patience=self.n_iter_no_change, load_best=True)))
        return callbacks + list(self.callbacks or [])

    def net_kwargs(self, device, seed, generator):
        """The keyword arguments of the skorch net that trains this estimator's module.

        The one place the training parameters become the net's settings:
        :meth:`build_net` (a single fit) and
        :func:`~sklearn_hform.neural_network.fit_stacked` (many networks as
        one) both build their net from it, so an override changes both.

        Parameters
        ----------
        device : str
            Resolved training device.
        seed : int
            The fit's seed (of the validation split and of
            :meth:`build_callbacks`); a stacked fit passes its first member's.
        generator : torch.Generator or list of torch.Generator
            On ``device``; draws the shuffles (one per member in a stacked fit).

        Returns
        -------
        dict
            The arguments of :func:`~sklearn_hform._training.make_net` but
            the module and ``net_class``.
        """
        return dict(
            optimizer=self.optimizer, loss=self.loss, lr=self.lr, weight_decay=self.weight_decay,
            batch_size=self.batch_size, max_epochs=self.max_epochs, validation_fraction=self.validation_fraction,
            seed=seed, generator=generator, callbacks=self.build_callbacks(seed), device=device,
            verbose=self.verbose, mixed_precision=self.mixed_precision, cuda_graphs=self.cuda_graphs,
        )

    def build_net(self, module, device, seed, generator):
        """The skorch net that trains ``module`` in a single fit, built from :meth:`net_kwargs`.

        Parameters
        ----------
        module : torch.nn.Module
            Initialised, on the CPU.
        device : str
            Resolved training device.
        seed : int
            Seed of the validation split.
        generator : torch.Generator
            On ``device``; draws the shuffles.

        Returns
        -------
        TensorNet
        """
        from .._training._tensor_net import make_net

        return make_net(module, **self.net_kwargs(device, seed, generator))

    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features, typically element fractions.
        y : array-like of shape (n_samples,)
            Finite target values. A single-column 2-D ``y`` is accepted with
            a ``DataConversionWarning``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row's loss. Rows of weight 0 are
            left out entirely, so they cannot move the fit.

        Returns
        -------
        self : object
        """
        X, y, weight = self.validate_fit_data(X, y, sample_weight)
        if weight is not None:
            keep = weight > 0
            X, y, weight = X[keep], y[keep], normalized_weights(weight[keep])
        device = resolve_device(self.device)
        self._train(X, y, weight, device, self.fit_seed())
        return self

    def validate_fit_data(self, X, y, sample_weight=None):
        """Check the parameters and the data of a fit; set ``n_features_in_`` (and ``feature_names_in_``).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features), float32 or float64
        y : ndarray of shape (n_samples,), float64
        sample_weight : ndarray of shape (n_samples,) or None
            Validated, not yet normalised (see
            :func:`~sklearn_hform.utils.normalized_weights`).
        """
        self._validate_params()
        check_device(self.device)
        warm = self.warm_start and hasattr(self, "module_")
        return validate_fit_inputs(self, X, y, sample_weight, dtype=[np.float32, np.float64], warm=warm,
                                   takes="the fitted network takes")

    def fit_seed(self):
        """The seed of a fit, drawn from ``random_state``: weights from it, shuffles from it + 1."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def initial_module(self, n_features, seed):
        """A new module with the initial weights of a fit seeded ``seed``, on the CPU."""
        import torch

        module = self.fresh_module(n_features)
        self.initialize_module(module, torch.Generator().manual_seed(seed))
        return module

    def record_training_precision(self, net):
        """Keep what the fit trained in: ``training_precision_``, and ``precision_choice_`` for ``"auto"``."""
        self.training_precision_ = "bfloat16" if net.autocast_bfloat16 else "float32"
        self.__dict__.pop("precision_choice_", None)  # it described an earlier fit
        if getattr(net, "precision_choice_", None) is not None:
            self.precision_choice_ = dict(net.precision_choice_)

    def set_fitted_module(self, module, device, n_iter):
        """Become fitted with ``module`` (trained on ``device`` for ``n_iter`` epochs)."""
        module.eval()
        self.module_ = module
        self.device_ = device
        self.n_iter_ = int(n_iter)
        return self

    def _train(self, X, y, weight, device, seed):
        import copy

        import torch

        from .._training._seeding import use_generator

        if self.warm_start and hasattr(self, "module_"):
            module = copy.deepcopy(self.module_).to("cpu")
        else:
            module = self.initial_module(X.shape[1], seed)
        generator = torch.Generator(device=device).manual_seed(seed + 1)
        net = self.build_net(module, device, seed, generator)
        # Handing skorch a ready dataset moves the rows to the device once
        # and carries the weights along with the targets; its class is the
        # net's (make_net chose it for the module: rows or element tokens).
        data = net.dataset(X.astype(np.float32, copy=False), y.astype(np.float32), device, sample_weight=weight)
        with use_generator(module, generator):
            net.fit(data, None)
        self.net_ = net
        self.record_training_precision(net)
        self.set_fitted_module(net.module_, device, len(net.history))

    def fresh_module(self, n_features):
        """:meth:`build_module`'s module, built without touching torch's global random state."""
        import torch

        # Layers draw throwaway initial weights from torch's global generator
        # as they are built; fork_rng restores its state, so that fitting or
        # loading leaves the caller's random stream alone. The real weights
        # come next, from the fit's own generator or from the saved state.
        with torch.random.fork_rng(devices=[]):
            return self.build_module(n_features)

    def predict(self, X):
        """Predict the target for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), dtype float64
        """
        check_is_fitted(self, "module_")
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False)
        return self.predict_batches(X.astype(np.float32, copy=False))

    def predict_batches(self, X):
        """The network's output for a validated float32 array (see :func:`~sklearn_hform._training.predict_in_chunks`).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), dtype float32

        Returns
        -------
        ndarray of shape (n_samples,), dtype float64
        """
        from .._training._batching import predict_in_chunks

        # Checked here as well as at fit: it may be set on a fitted or loaded model.
        if self.predict_precision not in PREDICT_PRECISIONS:
            raise ValueError(f"predict_precision must be one of {PREDICT_PRECISIONS}, got {self.predict_precision!r}")
        return predict_in_chunks(self.module_, X, self.device_, self.predict_precision == "bfloat16", self.batch_size)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.device != "cpu" and cuda_visible()
        return tags


#: The training parameters every subclass shares (its ``__init__`` lists them all).
TRAINING_PARAMETERS = tuple(BaseTorchRegressor._parameter_constraints)
