"""`python -m daemon` runs the picguard CLI."""

from daemon.cli import main

if __name__ == "__main__":
    main()
