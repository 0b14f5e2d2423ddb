"""torch.backends of the rehearsal's stand-in."""

from . import cudnn  # noqa: F401
