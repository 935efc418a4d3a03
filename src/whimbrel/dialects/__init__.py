"""Dialect compilers: pure functions from recorded commands to SQL statements."""
