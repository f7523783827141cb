"""Sustained load: what a run and each worker are given (``config.py``), payloads made
fast (``generator.py``) and what a worker sends of them (``supply.py``: batches,
faulted requests, counts by event), arrival schedules (``schedule.py``), one worker's
asyncio/httptools client and loop (``client.py``, ``worker.py``, ``waker.py``), worker
processes and their merged figures (``runner.py``, ``stats.py``), the typed summary
(``summary.py``), thresholds, the JSON and HTML report (``report.py``), and Locust
(``locust_runner.py``, ``locustfile.py``)."""
