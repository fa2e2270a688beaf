"""A silent stand-in for `tqdm` (gguf-py's progress bars), which Debian's
python3 here lacks."""


class tqdm:
    def __init__(self, *args, **kwargs):
        pass

    def update(self, n=1):
        pass

    def set_description(self, desc=None):
        pass

    def reset(self, total=None):
        pass

    def close(self):
        pass
