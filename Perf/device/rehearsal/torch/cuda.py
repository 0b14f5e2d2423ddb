"""torch.cuda of the rehearsal's stand-in: a device that names itself as such; events on the host clock."""

import time


class _Properties:
    name = "rehearsal stand-in for torch (no GPU)"
    multi_processor_count = 0
    total_memory = 0


def is_available():
    return True


def get_device_properties(index):  # noqa: ARG001 (torch's signature)
    return _Properties()


def empty_cache():
    pass


class Event:
    def __init__(self, enable_timing=False):  # noqa: ARG002 (torch's signature)
        self.time = None

    def record(self):
        self.time = time.perf_counter()

    def synchronize(self):
        pass

    def elapsed_time(self, end):
        return (end.time - self.time) * 1000.0
