"""Sweeps: resumable jobs, CPU threads per job, and the summary written when a sweep ends."""
