"""Scenario files: reading and validating them (``reading/``, on positioned YAML from
``yamlpos.py``), the model (``model.py``), engine expansion and scheduling
(``expand.py``, ``plan.py``), the runner that is a source of deliveries for the one
dispatch loop and a sink of their results (``runner.py``), and a recording written back
as a scenario (``from_recording.py``)."""
