"""``python -m whimbrel`` runs the command line."""

from whimbrel.cli import main

if __name__ == "__main__":
    main()
