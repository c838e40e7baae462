"""The operator dashboard's tests: its files, and its pages in a real headless Chromium."""

from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "shared/remedy/handlers/control/dashboard/static"
"""The dashboard's files, as the package ships them."""
