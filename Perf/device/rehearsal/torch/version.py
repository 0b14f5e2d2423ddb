"""torch.version of the rehearsal's stand-in."""

cuda = "none (rehearsal stand-in)"
