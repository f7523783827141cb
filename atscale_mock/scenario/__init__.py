"""Scenario files: positioned YAML loading and validation (``loader*.py``,
``yamlpos.py``), the model (``model.py``), engine expansion and scheduling
(``expand.py``, ``plan.py``), and the runner that hands deliveries to the one dispatch
loop (``runner.py``)."""
