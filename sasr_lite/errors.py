"""Errors more than one module raises."""


class NonFiniteError(RuntimeError):
    """A loss or the logits stopped being finite: the run stops before it writes anything."""
