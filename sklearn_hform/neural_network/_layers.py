"""Layers of the package's networks that torch lacks: dropout drawn from the fit's own generator."""

import torch
from torch import nn

__all__ = ["GeneratorDropout"]


class GeneratorDropout(nn.Module):
    """Dropout whose masks come from ``self.generator`` (a ``torch.Generator``).

    Behaves as :class:`torch.nn.Dropout` (inverted dropout, identity in
    eval mode). ``generator`` is set for the length of a fit to the fit's
    own generator, so that fits running in threads stay reproducible and
    leave torch's global random state alone; when it is ``None`` the global
    generator is used.

    Parameters
    ----------
    p : float
        Probability of zeroing an element.
    """

    #: The training engine hands this layer the fit's generator (and, on
    #: CUDA, registers that generator with a captured graph).
    uses_fit_generator = True

    def __init__(self, p):
        super().__init__()
        self.p = float(p)
        self.generator = None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = torch.empty_like(x).bernoulli_(1 - self.p, generator=self.generator)
        return x * keep / (1 - self.p)

    def extra_repr(self):
        return f"p={self.p}"

    def __getstate__(self):
        # A generator is bound to one fit and cannot be pickled.
        state = self.__dict__.copy()
        state["generator"] = None
        return state
