"""``--output-format junit``: one test case per checked file, one failure per finding."""

from __future__ import annotations

import collections
import xml.etree.ElementTree as ET

from mfx.output.report import Report


def render_junit(report: Report) -> str:
    by_file = collections.defaultdict(list)
    for d in report.diagnostics:
        by_file[d.path].append(d)
    paths = sorted(set(report.files) | set(by_file))
    failures = len(report.diagnostics)
    suites = ET.Element("testsuites", name="mfx", tests=str(len(paths)), failures=str(failures), errors="0")
    suite = ET.SubElement(suites, "testsuite", name="mfx", tests=str(len(paths)), failures=str(failures), errors="0", skipped="0")
    for path in paths:
        shown = report.display(path)
        case = ET.SubElement(suite, "testcase", name=shown, classname=shown, file=shown)
        for d in by_file.get(path, []):
            failure = ET.SubElement(case, "failure", message=f"{d.code} {d.message}", type=d.code)
            failure.text = f"{shown}:{d.line}:{d.column}: {d.code} {d.message}"
    ET.indent(suites) if hasattr(ET, "indent") else None
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
