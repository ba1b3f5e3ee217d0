"""draco-sim's Hydra plugins: the checked sweeper."""
