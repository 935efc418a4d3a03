"""The migration DSL: objects, commands, the recorder and the reversal table."""
