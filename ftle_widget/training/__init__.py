"""Training, watched: History (snapshots and metrics), curves, background runs, the trainer."""
