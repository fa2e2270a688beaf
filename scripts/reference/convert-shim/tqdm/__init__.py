"""A silent stand-in for tqdm's progress bar (gguf-py imports it to write tensors)."""


class tqdm:  # noqa: N801 (the package's name)
    def __init__(self, iterable=None, *args, **kwargs):
        del args, kwargs
        self._iterable = iterable

    def __iter__(self):
        return iter(self._iterable or ())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        del n

    def set_description(self, *args, **kwargs):
        del args, kwargs

    def close(self):
        pass
