"""``python -m smplr.benchmarks``: every benchmark of the project, one after another."""

from smplr.benchmarks import body, core, render, synthetic

body.run()
synthetic.run()
render.run()
core.run()
