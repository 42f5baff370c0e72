"""The training parameters' documentation, written once and filled into every network's docstring.

Every network estimator takes the same training parameters (those of
:class:`~sklearn_hform.neural_network.BaseTorchRegressor`) with defaults of
its own. Their text lives here, without defaults;
:func:`document_training_parameters` writes it into a class docstring with
the defaults of that class's ``__init__``, so that numpydoc, the API pages
and ``help()`` show every parameter of every network and no default can
drift from the signature.
"""

import inspect
import re
import textwrap

__all__ = ["TRAINING_PARAMETER_DOCS", "document_training_parameters"]

#: The text of each training parameter in a class docstring: its type and
#: what it does, without its default, which each subclass chooses (see
#: :func:`document_training_parameters`).
TRAINING_PARAMETER_DOCS = {
    "optimizer": ('{"rmsprop", "adam", "adamw"}', "The optimiser."),
    "lr": ("float", "Initial learning rate."),
    "lr_schedule": (
        '{"cosine", "warmup_cosine", "constant"}',
        '``"cosine"`` decays the learning rate to 0 over ``max_epochs`` epochs, one step per epoch; '
        '``"warmup_cosine"`` first raises it linearly over the first 5 % of the epochs (at least one), '
        "the usual start for attention networks trained with Adam.",
    ),
    "weight_decay": ("float", 'L2 penalty (decoupled for ``"adamw"``).'),
    "mixed_precision": (
        'bool or "auto"',
        "Train the module under bfloat16 autocast (float32 accumulation). ``\"auto\"`` times a few passes "
        "of the network on a batch of the data in both precisions at the start of the fit and trains in "
        "bfloat16 only where that is clearly faster on this machine (AMX or AVX512-BF16 CPUs, GPUs), "
        "recording the choice in ``training_precision_`` and ``precision_choice_``. The fits, not the "
        "predictions, then depend on the machine (see ``predict_precision``).",
    ),
    "predict_precision": (
        '{"float32", "bfloat16"}',
        'The arithmetic of ``predict``. ``"float32"`` computes from the stored weights in float32 whatever '
        "the training precision, so a prediction does not depend on the CPU, its threads or the other rows "
        'predicted with it (to about 1e-6 eV/atom); ``"bfloat16"`` predicts under bfloat16 autocast, '
        "faster where the CPU has bfloat16 hardware, with digits that differ between processors and batches.",
    ),
    "cuda_graphs": (
        "bool",
        "On CUDA, capture the training step once as a CUDA graph and replay it for every full batch, when "
        "the module declares ``cuda_graph_safe`` and no callback acts on single batches; ``False`` always "
        "steps eagerly. No effect on other devices.",
    ),
    "loss": ('{"l1", "mse"}', "Training loss."),
    "batch_size": ("int", "Rows per gradient step."),
    "max_epochs": ("int", "Passes over the training rows."),
    "validation_fraction": (
        "float or None",
        "Share of the training rows held out (a random split) to measure ``valid_loss`` each epoch. "
        "``None`` trains on all rows.",
    ),
    "n_iter_no_change": (
        "int or None",
        "With a validation fraction: stop when ``valid_loss`` has not improved for this many epochs and "
        "restore the best weights. ``None`` never stops early.",
    ),
    "callbacks": (
        "list of (str, skorch Callback) or None",
        "Extra skorch callbacks, e.g. a checkpoint or a per-epoch score; they run after the built-in "
        "learning-rate schedule and early stopping.",
    ),
    "warm_start": (
        "bool",
        "When the estimator is already fitted (or was loaded), continue training its network instead of "
        "starting from fresh weights: the way to fine-tune a pretrained model on new data. The schedule and "
        "the optimiser start afresh.",
    ),
    "random_state": (
        "int, RandomState instance or None",
        "Seeds weight initialisation, dropout, shuffling and the validation split, through a generator of "
        "the fit's own (torch's global generator is left alone). With a fixed seed two fits on the CPU give "
        "identical predictions, also when run in parallel threads.",
    ),
    "verbose": ("int", "``> 0`` prints skorch's per-epoch table."),
    "device": (
        "str",
        '``"auto"`` (CUDA when torch sees a GPU, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or '
        '``"mps"``. The fitted network predicts on the device recorded in ``device_``.',
    ),
}

_MARKER = re.compile(r"^([ \t]*)\{training_parameters\}[ \t]*$", flags=re.M)


def _default_text(value):
    # numpydoc writes string defaults in double quotes.
    return f'"{value}"' if isinstance(value, str) else repr(value)


def document_training_parameters(notes=None):
    """Class decorator: write the shared training parameters into the class docstring.

    The docstring holds the line ``{training_parameters}`` inside its
    ``Parameters`` section, indented as the parameters are; the decorator
    replaces it by the entries of :data:`TRAINING_PARAMETER_DOCS`, each
    with the default of the class's own ``__init__`` (none where the
    signature has none), so the text is written once and the defaults
    cannot drift from the signature.

    Parameters
    ----------
    notes : dict of str to str, default=None
        Sentences about one parameter that hold for this class only (why it
        chose its default, what the parameter does for its network),
        appended to that parameter's shared text.

    Returns
    -------
    callable
        The decorator; it returns the class itself.

    Raises
    ------
    TypeError
        When ``__init__`` lacks a training parameter, ``notes`` names
        something that is not one, or the docstring has no marker.
    """
    notes = dict(notes or {})
    unknown = sorted(set(notes) - set(TRAINING_PARAMETER_DOCS))
    if unknown:
        raise TypeError(f"notes name no training parameter: {unknown}")

    def decorate(cls):
        signature = inspect.signature(cls.__init__).parameters
        missing = [name for name in TRAINING_PARAMETER_DOCS if name not in signature]
        if missing:
            raise TypeError(f"{cls.__name__}.__init__ lacks the training parameters {missing}")
        if cls.__doc__ is None:  # python -OO strips docstrings
            return cls
        found = _MARKER.search(cls.__doc__)
        if found is None:
            raise TypeError(f"{cls.__name__}'s docstring has no {{training_parameters}} line")
        indent = found.group(1)
        entries = []
        for name, (kind, text) in TRAINING_PARAMETER_DOCS.items():
            default = signature[name].default
            head = kind if default is inspect.Parameter.empty else f"{kind}, default={_default_text(default)}"
            body = f"{text} {notes[name]}" if name in notes else text
            entries.append(f"{indent}{name} : {head}\n"
                           + textwrap.fill(body, 79 - len(indent) - 4, initial_indent=indent + "    ",
                                           subsequent_indent=indent + "    ", break_on_hyphens=False,
                                           break_long_words=False))
        # A function as replacement: the text holds backslashes re.sub must not read.
        cls.__doc__ = _MARKER.sub(lambda _: "\n".join(entries), cls.__doc__, count=1)
        return cls

    return decorate
