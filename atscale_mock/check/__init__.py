"""The receiver conformance check behind :func:`atscale_mock.check`: the battery of
named checks (``probes.py`` builds what each sends, ``battery.py`` judges the answers),
the schema-driven fuzzer (``fuzz.py``), the prober that sends through the one dispatch
loop (``prober.py``) and the scorecard in every format (``scorecard.py``)."""
