"""A finding on a word written inside a string points at that word's own line and column
(issue 11: a triple-quoted shell command built in a function, as for module-level constants)."""

from mfx.engine.runner import lint_sources, load_rules


def _found(source: str, code: str = "MFX201") -> list:
    return [(d.line, d.column, d.end_line, d.end_column) for d in lint_sources({"orch/run.py": source}, load_rules([code]))]


def test_the_kth_occurrence_of_the_word_in_a_functions_multi_line_string():
    source = '''def script(flow, step, run_id, task_id, attempt):
    return f"""
set -e
python {flow} step {step} --run-id {run_id} --task-id {task_id} --retry-count {attempt}
python {flow} step {step} --run-id {run_id} --task-id {task_id} \\\\
      --retry-count 0
"""
'''
    # the second command's option (line 6, after six spaces), not the string's first line
    assert _found(source) == [(6, 7, 6, 7 + len("--retry-count"))]


def test_a_literal_that_is_the_word_is_reported_on_the_literal():
    source = 'def cmd(run_id, task_id):\n    return ["step", "x", "--run-id", run_id, "--task-id", task_id, "--retry-count", "0"]\n'
    (found,) = _found(source)
    line = source.splitlines()[1]
    assert found[:2] == (2, line.index('"--retry-count"') + 1)  # its opening quote, as for any node


def test_escapes_before_the_word_do_not_shift_it():
    source = (
        "def cmd(run_id, task_id):\n"
        '    return "python f.py step x --run-id %s --task-id %s\\t\\t--retry-count 0" % (run_id, task_id)\n'
    )
    (found,) = _found(source)
    line = source.splitlines()[1]
    assert found[:2] == (2, line.index("--retry-count") + 1)


def test_the_builder_anchor_is_the_step_word_in_a_multi_line_string():
    source = '''def script(flow, step, run_id, task_id, attempt):
    return f"""
set -e
python {flow} --quiet \\\\
    step {step} --run-id {run_id} --task-id {task_id} --retry-count {attempt}
"""
'''
    (found,) = _found(source, "MFX203")  # no --max-user-code-retries: reported at the builder's `step`
    assert found[:2] == (5, 5)
