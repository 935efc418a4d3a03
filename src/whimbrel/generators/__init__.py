"""Generators: new migration files rendered from templates shipped in the package."""
