"""An example flow: a parameter, a foreach fan-out and a join.

    python flows/hello_flow.py run
    python flows/hello_flow.py <plugin> create      # orchestrator extensions
    python flows/hello_flow.py <plugin> trigger --greeting hi
"""

from metaflow import FlowSpec, Parameter, step


class HelloFlow(FlowSpec):
    greeting = Parameter("greeting", default="hello", help="Word to greet each name with")

    @step
    def start(self):
        self.names = ["ada", "grace", "linus"]
        self.next(self.greet, foreach="names")

    @step
    def greet(self):
        self.message = "%s %s" % (self.greeting, self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.messages = sorted(i.message for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("\n".join(self.messages))


if __name__ == "__main__":
    HelloFlow()
