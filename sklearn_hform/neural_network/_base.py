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
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .._training._devices import check_device, cuda_visible, resolve_device
from ..persistence._module_state import ModuleStateMixin
from ..utils._validation import check_finite_target, check_sample_weight, normalized_weights

__all__ = ["BaseTorchRegressor", "LOSSES", "LR_SCHEDULES", "OPTIMIZERS", "PREDICT_PRECISIONS", "TRAINING_PARAMETERS"]

#: Optimiser names accepted by ``optimizer``.
OPTIMIZERS = ("rmsprop", "adam", "adamw")
#: Loss names accepted by ``loss``.
LOSSES = ("l1", "mse")
#: Learning-rate schedules accepted by ``lr_schedule``.
LR_SCHEDULES = ("cosine", "warmup_cosine", "constant")
#: Arithmetic accepted by ``predict_precision``.
PREDICT_PRECISIONS = ("float32", "bfloat16")


class BaseTorchRegressor(ModuleStateMixin, RegressorMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class for torch regressors: subclass it and implement :meth:`build_module`.

    Do not instantiate this class directly. A subclass declares its
    architecture parameters in its own ``__init__`` together with the
    training parameters below (scikit-learn reads every parameter from the
    signature), passes the latter to ``super().__init__`` and returns a
    fresh :class:`torch.nn.Module` from :meth:`build_module`. The module maps
    a float32 batch of shape ``(n, n_features)`` to ``(n,)`` (or ``(n, 1)``).

    Parameters
    ----------
    optimizer : {"rmsprop", "adam", "adamw"}
    lr : float
        Initial learning rate.
    lr_schedule : {"cosine", "warmup_cosine", "constant"}
        ``"cosine"`` decays the learning rate to 0 over ``max_epochs``
        epochs, one step per epoch; ``"warmup_cosine"`` first raises it
        linearly over the first 5 % of the epochs (at least one), the
        usual start for attention networks trained with Adam.
    weight_decay : float
        L2 penalty (decoupled for ``"adamw"``).
    mixed_precision : bool
        Train the module under bfloat16 autocast (float32 accumulation).
    predict_precision : {"float32", "bfloat16"}
        The arithmetic of :meth:`predict`. ``"float32"`` computes from the
        stored weights in float32 whatever the training precision, so a
        prediction does not depend on the CPU, its threads or the other rows
        predicted with it (to about 1e-6 eV/atom); ``"bfloat16"`` predicts
        under bfloat16 autocast, faster where the CPU has bfloat16 hardware,
        with digits that differ between processors and batches.
    cuda_graphs : bool
        On CUDA, capture the training step once as a CUDA graph and replay
        it for every full batch, when the network's forward pass is static
        and no callback acts on single batches (see
        :mod:`sklearn_hform._training._cuda_graphs`); ``False`` always steps
        eagerly. No effect on other devices.
    loss : {"l1", "mse"}
        Training loss.
    batch_size : int
        Rows per gradient step.
    max_epochs : int
        Passes over the training rows.
    validation_fraction : float or None
        Share of the training rows held out to measure ``valid_loss`` each
        epoch. ``None`` trains on all rows.
    n_iter_no_change : int or None
        With a validation fraction: stop when ``valid_loss`` has not
        improved for this many epochs and restore the best weights.
    callbacks : list of (str, skorch Callback) or None
        Extra skorch callbacks, run after the built-in schedule and early
        stopping.
    warm_start : bool
        When the estimator is already fitted (or was loaded), continue
        training its network instead of starting from fresh weights: the
        way to fine-tune a pretrained model on new data. The schedule and
        the optimiser start afresh.
    random_state : int, RandomState instance or None
        Seeds weight initialisation, dropout, shuffling and the validation
        split, through a generator of the fit's own.
    verbose : int
        ``> 0`` prints skorch's per-epoch table.
    device : str
        ``"auto"`` (CUDA when torch sees a GPU, else CPU), ``"cpu"``,
        ``"cuda"``, ``"cuda:N"`` or ``"mps"``.

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
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When fitted on a DataFrame with string column names.
    """

    _parameter_constraints = {
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "mixed_precision": ["boolean"],
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

    def build_net(self, module, device, seed, generator):
        """The skorch net that trains ``module``.

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

        return make_net(
            module, optimizer=self.optimizer, loss=self.loss, lr=self.lr, weight_decay=self.weight_decay,
            batch_size=self.batch_size, max_epochs=self.max_epochs, validation_fraction=self.validation_fraction,
            seed=seed, generator=generator, callbacks=self.build_callbacks(seed), device=device,
            verbose=self.verbose, mixed_precision=self.mixed_precision, cuda_graphs=self.cuda_graphs,
        )

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
        # validate_data describes the new X in n_features_in_ and
        # feature_names_in_ (setting or deleting the names) before any check
        # can fail; a warm start that fails leaves the fitted model as it was.
        described = ("n_features_in_", "feature_names_in_")
        kept = {name: getattr(self, name) for name in described if hasattr(self, name)} if warm else None
        try:
            X, y = validate_data(self, X, y, dtype=[np.float32, np.float64], y_numeric=True, multi_output=True)
            if warm and X.shape[1] != kept["n_features_in_"]:
                raise ValueError(f"warm_start: the fitted network takes {kept['n_features_in_']} features, "
                                 f"X has {X.shape[1]}")
            y = column_or_1d(y, warn=True).astype(np.float64)
            check_finite_target(y)
            sample_weight = check_sample_weight(sample_weight, len(y))
        except BaseException:
            if warm:
                for name in described:
                    if name in kept:
                        setattr(self, name, kept[name])
                    elif hasattr(self, name):
                        delattr(self, name)
            raise
        return X, y, sample_weight

    def fit_seed(self):
        """The seed of a fit, drawn from ``random_state``: weights from it, shuffles from it + 1."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def initial_module(self, n_features, seed):
        """A new module with the initial weights of a fit seeded ``seed``, on the CPU."""
        import torch

        module = self.fresh_module(n_features)
        self.initialize_module(module, torch.Generator().manual_seed(seed))
        return module

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

        from .._training._batching import TensorData
        from .._training._seeding import use_generator

        if self.warm_start and hasattr(self, "module_"):
            module = copy.deepcopy(self.module_).to("cpu")
        else:
            module = self.initial_module(X.shape[1], seed)
        generator = torch.Generator(device=device).manual_seed(seed + 1)
        net = self.build_net(module, device, seed, generator)
        # Handing skorch a ready dataset moves the rows to the device once
        # and carries the weights along with the targets.
        data = TensorData(X.astype(np.float32, copy=False), y.astype(np.float32), device, sample_weight=weight)
        with use_generator(module, generator):
            net.fit(data, None)
        self.net_ = net
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
