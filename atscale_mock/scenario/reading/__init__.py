"""Reading scenario files: YAML (with every position kept) into the frozen records of
:mod:`atscale_mock.scenario.model`, every problem at once with its file:line:column.

    file.py          the document: version, name, defaults, vars, faults; the entry points
    base.py          what every part shares: problems, keys, values, ${...} references
    steps.py         event steps and parallel groups
    engine.py        the engine: section and its steps (batch, queries, publish, unpublish)
    load_section.py  the load: section
"""

from .file import NoEnvironment, parse_scenario, read_scenario

__all__ = ["NoEnvironment", "parse_scenario", "read_scenario"]
