"""``time`` for code that waits: ``sleep`` moves the clock on at once (and runs the
test's hooks: the world changing while the code waits), nothing really sleeps."""


class Clock:
    def __init__(self, start=0.0):
        self.now = float(start)
        self.slept: list[float] = []
        self.hooks: list = []

    def time(self):
        return self.now

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds
        for hook in list(self.hooks):
            hook(self)
