"""The typed core of each function; ``functions/<name>/main.py`` is a thin entry over one."""
