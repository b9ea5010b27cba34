"""The compliance suite: our own test flows run against a live engine, keyed to capabilities.

Layout: ``capabilities.py`` (the registry), ``plugin.py`` (pytest plugin, inactive unless
``--mfx-compliance``), ``cli.py`` (``mfx compliance``), ``config.py`` (``[tool.mfx.compliance]``),
``devstack.py`` (start/stop the extension's devstack), ``harness.py`` (Deployer API helpers with
bounded waits), ``expect.py`` (failure messages naming the pitfall and the fix), ``report.py``
(the capability matrix), ``bench.py``, ``docs.py``; ``flows/<kind>/`` and ``tests/<kind>/``.
The guide: `mfx compliance --docs` (docs/compliance.md in the repository).
"""
