"""Canary releases of skills: a candidate version beside the live one (``canary/`` in the
skill folder, ``bot/skills/candidates.py``), run in shadow beside every real run of a batch
skill (``shadow``, compared by ``diff``) or on a sticky share of a field skill's callers
(``bot/runtime/versions.py``), then promoted or rolled back (``promote``, ``watch``)."""
