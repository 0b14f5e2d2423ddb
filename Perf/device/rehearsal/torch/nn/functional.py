"""torch.nn.functional of the rehearsal's stand-in: SDPA's output shape, with flash refusing enable_gqa."""

from .. import Tensor
from . import attention


def scaled_dot_product_attention(query, key, value, is_causal=False, enable_gqa=False):  # noqa: ARG001
    if enable_gqa and attention.forced and attention.forced[-1] == attention.SDPBackend.FLASH_ATTENTION:
        raise RuntimeError("rehearsal stand-in: the flash backend refuses enable_gqa here")
    return Tensor(query.shape[:-1] + value.shape[-1:])
