"""``python -m loopscan``."""

from loopscan.cli import main

if __name__ == "__main__":
    main()
