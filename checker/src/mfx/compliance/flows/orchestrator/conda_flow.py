"""@conda pins a package version that differs from the host's: the task must see the pinned one."""

from metaflow import FlowSpec, conda, step


class MfxCondaFlow(FlowSpec):
    @conda(packages={"six": "1.16.0"}, python="3.11")
    @step
    def start(self):
        import six

        self.six_version = six.__version__
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MfxCondaFlow()
