"""The pieces of ``bench/run.py``: databases, tools, timing and the report.

``backends`` finds the servers and hands out fresh databases with each one's
floor client; ``tools`` writes the same migrations for whimbrel, alembic, yoyo
and the floor script; ``measure`` times processes round by round; ``report``
prints the one table.
"""
