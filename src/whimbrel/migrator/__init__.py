"""The migrator: finding, loading, planning and running migrations."""
