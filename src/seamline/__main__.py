"""``python -m seamline`` runs the CLI."""

from seamline.cli import main

main()
