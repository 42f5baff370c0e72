"""The training engine under every network estimator (private: its names may change without notice).

What :class:`~sklearn_hform.neural_network.BaseTorchRegressor` trains
through, and nothing that knows about estimators:

- ``_capabilities.py``: what a module declares the engine may do with it
  (``vmap_safe``, ``cuda_graph_safe``, ``token_batches``): :func:`module_capability`.
- ``_devices.py``: the accepted ``device`` spellings and ``"auto"``.
- ``_schedules.py``: learning-rate schedules (:class:`WarmupCosine`).
- ``_seeding.py``: weight initialisation and dropout from the fit's own
  ``torch.Generator``.
- ``_batching.py``: training data resident on the device, shuffled slices
  as batches, or rows as element tokens, grouped by element count inside
  each batch (:class:`TokenData`, :class:`ElementCountBatches`), the validation split,
  chunked prediction.
- ``_precision.py``: ``mixed_precision="auto"``, bfloat16 where it is
  measured faster (:func:`choose_precision`).
- ``_cuda_graphs.py``: the training step captured once as a CUDA graph.
- ``_tensor_net.py``: :class:`TensorNet`, the skorch net, and
  :func:`make_net`.
- ``_vmapped.py``: K modules of one architecture as one vmapped model.
- ``_callbacks.py``: skorch callbacks for long trainings, public as
  :class:`sklearn_hform.neural_network.EpochProgress` and
  :class:`~sklearn_hform.neural_network.HeldOutMAE`.

Most modules import torch (or skorch) when imported; the names below are
imported on first use.
"""

from .._lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "_capabilities": ("CAPABILITIES", "module_capability"),
    "_devices": ("DEVICE_FORMS", "check_device", "cuda_visible", "resolve_device"),
    "_schedules": ("WarmupCosine",),
    "_seeding": ("fit_generator_layers", "initialize_parameters", "use_generator"),
    "_batching": ("PREDICT_CHUNK", "ElementCountBatches", "ShuffleSplitTensors", "TensorBatches", "TensorData", "TokenData",
                  "element_tokens", "padding_mask", "predict_in_chunks", "token_lengths"),
    "_precision": ("MARGIN", "choose_precision"),
    "_cuda_graphs": ("CudaGraphStep", "graphs_possible"),
    "_tensor_net": ("LOSS_CLASSES", "OPTIMIZER_CLASSES", "TensorNet", "make_net"),
    "_vmapped": ("StackedBatches", "StackedData", "StackedModule", "StackedNet"),
    "_callbacks": ("EpochProgress", "HeldOutMAE"),
})
