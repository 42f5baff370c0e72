"""What a torch module declares the trainer may do with it: ``vmap_safe``, ``cuda_graph_safe``, ``token_batches``.

A network's module states three capabilities as class (or instance)
attributes, each ``False`` when absent:

``vmap_safe``
    Its forward pass runs under :func:`torch.func.vmap`: no shapes that
    depend on the values of the data, no values read back to the host
    (``.item()``, ``int(tensor)``, ``.max()`` used as a size), no in-place
    writes into its inputs. K copies may then be trained as one stacked
    model (:func:`~sklearn_hform.neural_network.fit_stacked`).
``cuda_graph_safe``
    Its training step can be captured once as a CUDA graph and replayed
    (:mod:`sklearn_hform._training._cuda_graphs`): the same kernels with
    the same shapes at every step, no host reads, no CPU-side branches on
    tensor values.
``token_batches``
    Besides a batch of fraction vectors, its forward takes the rows as
    groups of element tokens: a tuple of ``(fractions, elements)`` pairs,
    each of shape ``(rows, length)`` for rows that all have ``length``
    elements (:func:`~sklearn_hform._training._batching.element_tokens`),
    or ``(fractions, elements, padding)`` for a group padded to a common
    width with its mask; the output is the rows' in the groups' order. The
    engine then trains on random batches regrouped by element count
    (:class:`~sklearn_hform._training._batching.ElementCountBatches`) and
    predicts by length: only the tokens that exist are computed, and every
    shape is known on the host. ``cuda_graph_safe`` then speaks of the
    steps on padded batches of one width, the batches a captured fit gets.

Before 0.2 one attribute, ``static_forward``, claimed the first two at once. A module
that still declares it, and not the flag asked about, is read as before
until 0.3, with a ``FutureWarning``.
"""

import warnings

__all__ = ["CAPABILITIES", "module_capability"]

#: The capability flags a module may declare.
CAPABILITIES = ("vmap_safe", "cuda_graph_safe", "token_batches")

_LEGACY = "static_forward"
#: What the legacy flag claimed.
_LEGACY_COVERS = ("vmap_safe", "cuda_graph_safe")


def module_capability(module, capability):
    """Whether ``module`` declares ``capability`` (one of :data:`CAPABILITIES`).

    Parameters
    ----------
    module : torch.nn.Module
    capability : {"vmap_safe", "cuda_graph_safe", "token_batches"}

    Returns
    -------
    bool
        The declared flag; else, for the first two, ``static_forward`` (with
        a ``FutureWarning``) when the module declares that; else ``False``.
    """
    if capability not in CAPABILITIES:
        raise ValueError(f"capability must be one of {CAPABILITIES}, got {capability!r}")
    # getattr with a default: nn.Module.__getattr__ raises for names it lacks.
    declared = getattr(module, capability, None)
    if declared is not None:
        return bool(declared)
    legacy = getattr(module, _LEGACY, None)
    if legacy is None or capability not in _LEGACY_COVERS:
        return False
    warnings.warn(
        f"{type(module).__name__} declares static_forward, which is read as vmap_safe and cuda_graph_safe "
        "until sklearn-hform 0.3; declare vmap_safe and cuda_graph_safe instead",
        FutureWarning, stacklevel=2,
    )
    return bool(legacy)
