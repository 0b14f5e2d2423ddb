"""torch.nn of the rehearsal's stand-in."""

from . import attention, functional  # noqa: F401
