"""Settings: what a run is configured with, and everything that checks it.

- :mod:`~sim.config.schema`: the top-level sections (``cluster``, ``train``, ``ps``, ...);
- :mod:`~sim.config.options`: every option of every group, typed by its signature;
- :mod:`~sim.config.ranges`: valid ranges, written next to the parameter;
- :mod:`~sim.config.validate`: every check, run once before the run starts;
- :mod:`~sim.config.friendly`: Hydra's composition errors as one line each;
- :mod:`~sim.config.inputs`: the one reader of files that a setting names;
- :mod:`~sim.config.errors`: the errors a user can fix.
"""
