"""Sustained load: prepared requests (``generator.py``), arrival schedules
(``schedule.py``), one worker's fast asyncio/httptools client (``client.py``,
``worker.py``), worker processes and their merged figures (``runner.py``, ``stats.py``),
thresholds, reports, and the Locust runner (``locust_runner.py``)."""
