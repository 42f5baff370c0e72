"""The fitted state of an estimator whose model is one torch module: what it saves, how it restores."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["ModuleStateMixin"]


class ModuleStateMixin:
    """``export_state`` / ``restore_state`` for estimators whose fitted state is one module.

    The estimator provides ``module_``, ``n_features_in_``, ``n_iter_``, the
    ``mixed_precision`` parameter, ``fresh_module(n_features)`` and
    ``set_fitted_module(module, device, n_iter)`` (as
    :class:`~sklearn_hform.neural_network.BaseTorchRegressor` does).
    """

    def export_state(self):
        """The fitted state, for :mod:`sklearn_hform.persistence`.

        Returns
        -------
        attributes : dict
            JSON-ready fitted attributes (``n_features_in_``, ``n_iter_``,
            ``feature_names_in_``).
        tensors : dict of str to torch.Tensor
            The module's ``state_dict`` on the CPU. When the module both
            trains and predicts under bfloat16 autocast (``mixed_precision``
            and ``predict_precision="bfloat16"``), weights it lists in
            ``autocast_prefixes`` are stored in bfloat16, the precision
            autocast computes with anyway; otherwise in float32, so that a
            loaded model predicts exactly as the saved one.
        """
        import torch

        check_is_fitted(self, "module_")
        attributes = {"n_features_in_": int(self.n_features_in_), "n_iter_": int(self.n_iter_)}
        if hasattr(self, "feature_names_in_"):
            attributes["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        # bfloat16 storage only where predictions compute in bfloat16 anyway:
        # a float32 prediction must not change when the model is saved.
        trained_bf16 = getattr(self, "training_precision_", None) == "bfloat16" or self.mixed_precision is True
        bf16 = trained_bf16 and getattr(self, "predict_precision", "float32") == "bfloat16"
        low = tuple(getattr(self.module_, "autocast_prefixes", ())) if bf16 else ()
        tensors = {}
        for key, tensor in self.module_.state_dict().items():
            tensor = tensor.detach().to("cpu").contiguous().clone()
            if low and key.startswith(low) and tensor.is_floating_point():
                tensor = tensor.to(torch.bfloat16)
            tensors[key] = tensor
        return attributes, tensors

    def restore_state(self, attributes, tensors):
        """Become the fitted estimator described by :meth:`export_state`'s output.

        The network is rebuilt by :meth:`build_module` and predicts on the CPU.

        Parameters
        ----------
        attributes : dict
        tensors : dict of str to torch.Tensor

        Returns
        -------
        self : object

        Raises
        ------
        ValueError
            If the tensors do not fit the network the parameters describe.
        """
        import torch

        n_features = int(attributes["n_features_in_"])
        module = self.fresh_module(n_features)
        try:
            module.load_state_dict(tensors, strict=True)
        except RuntimeError as exc:
            raise ValueError(f"the saved weights do not fit {type(self).__name__}'s network: {exc}") from None
        self.set_fitted_module(module.to(torch.float32), "cpu", attributes.get("n_iter_", 0))
        self.n_features_in_ = n_features
        if "feature_names_in_" in attributes:
            self.feature_names_in_ = np.asarray(attributes["feature_names_in_"], dtype=object)
        return self
