"""A stand-in for PyTorch in the device rehearsal (Perf/device/rehearsal.sh).

Just enough of torch's API for Perf/device/torch_sdpa.py to run its whole control flow on a machine without torch or a
GPU: tensors carry only their shape and compute nothing, events read the host clock, and the flash backend refuses
enable_gqa (as some builds do) so that the script's retry with K and V expanded runs too. Every name it reports says
it is a stand-in; its times are no measurement.
"""

__version__ = "0.0+rehearsal-stand-in"
bfloat16 = "bfloat16"
float16 = "float16"
float32 = "float32"


class device:  # noqa: N801 (torch's name)
    def __init__(self, kind):
        self.type = kind


class Tensor:
    """A shape and nothing else."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def copy_(self, other):
        return self

    def repeat_interleave(self, repeats, dim):
        shape = list(self.shape)
        shape[dim] *= repeats
        return Tensor(shape)


def randn(*shape, device=None, dtype=None):  # noqa: ARG001 (torch's signature)
    return Tensor(shape)


def empty_like(tensor):
    return Tensor(tensor.shape)


# Last: torch.nn.functional uses Tensor.
from . import backends, cuda, nn, version  # noqa: E402, F401 (torch's submodules)
