"""The original system's remediation, run as its steps ran it, as a benchmark baseline."""
