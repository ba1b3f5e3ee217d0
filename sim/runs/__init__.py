"""A run's records and files: what happens around the simulation, from start to end.

- :mod:`~sim.runs.records`: the typed iteration record, summary and status;
- :mod:`~sim.runs.session`: one run from a config: build, resume, run, write (a transaction);
- :mod:`~sim.runs.sink`: the per-iteration stream into ``metrics.csv``;
- :mod:`~sim.runs.store`: finished runs read back, and when two configs are the same run;
- :mod:`~sim.runs.trace`: ``trace.json`` (Chrome trace events);
- :mod:`~sim.runs.checkpoint`, :mod:`~sim.runs.interrupt`: stop, save, continue.
"""
