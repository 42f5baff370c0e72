"""Learning-rate schedules, as picklable multipliers of the initial rate (for ``LambdaLR``)."""

import math

__all__ = ["WarmupCosine"]


class WarmupCosine:
    """Linear warm-up over the first 5 % of the epochs (at least one), then a cosine decay to 0.

    An instance is the ``lr_lambda`` of :class:`torch.optim.lr_scheduler.LambdaLR`,
    stepped once per epoch: called with the number of epochs done, it
    returns the factor applied to the initial learning rate for the next.

    Parameters
    ----------
    max_epochs : int
        Length of the schedule.
    """

    def __init__(self, max_epochs):
        self.max_epochs = int(max_epochs)
        self.warmup = max(1, round(0.05 * self.max_epochs))

    def __call__(self, epoch):
        if epoch < self.warmup:
            return (epoch + 1) / (self.warmup + 1)
        progress = (epoch - self.warmup) / max(self.max_epochs - self.warmup, 1)
        return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
