"""What the engine sends: the catalogue of events (``catalogue.py``, made of the records
in ``model.py``, with the spec's own examples in ``spec_examples.py``), building a
payload (``payload.py``; ``make.py`` resolves a seed and a clock and builds one), its
JSON Schema (``schema.py``) and an OpenAPI document of all of them (``openapi.py``), and
the seeded ids and timestamps they carry (``ids.py``). Nothing here sends anything."""
