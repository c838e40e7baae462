"""Running remedy on one machine: local processes and their lifecycle."""
