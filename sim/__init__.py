"""draco-sim: a discrete-event simulator of Byzantine training clusters."""

__version__ = "0.1.0"
