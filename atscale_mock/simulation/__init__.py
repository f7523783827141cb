"""The engine simulation only: a seeded model of projects, cubes, aggregates and queries
(``model.py``), the steps an ``engine:`` scenario may take (``steps.py``), and their
expansion into the webhooks a real engine would emit (``simulate.py``)."""
