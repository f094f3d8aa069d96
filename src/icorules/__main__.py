"""`python -m icorules`: the command line, where the `icorules` script is not on PATH."""

from icorules.cli import main

if __name__ == "__main__":
    main()
