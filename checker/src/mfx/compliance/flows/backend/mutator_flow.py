"""The backend decorator added by a StepMutator (B22: an `__init__` without `inserted_by` breaks).

The decorator spec comes from the Config `backend` (`{"spec": "<decospec>"}`), so the same spec is
applied in the launcher, the trampoline and the task.
"""

import os

from metaflow import Config, FlowSpec, StepMutator, current, step


class OnBackend(StepMutator):
    def pre_mutate(self, mutable_step):
        spec = dict(mutable_step.flow.configs)["backend"]["spec"]
        if spec:
            mutable_step.add_decorator(spec)


class BackendMutatorFlow(FlowSpec):
    backend = Config("backend", default_value={"spec": ""})

    @OnBackend
    @step
    def start(self):
        self.runtime_environment = os.environ.get("METAFLOW_RUNTIME_ENVIRONMENT")
        self.task = current.pathspec
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BackendMutatorFlow()
