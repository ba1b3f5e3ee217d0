"""Sweeps: resumable jobs, CPU threads per job, and the sweep's summary tables."""

from sim.sweep.resume import config_hash, resumable
from sim.sweep.summary import aggregate, summarize, write_summary
from sim.sweep.threads import cap_threads

__all__ = ["aggregate", "cap_threads", "config_hash", "resumable", "summarize", "write_summary"]
