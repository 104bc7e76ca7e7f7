"""``python -m api.cli``: the same command line as the ``qoltanba`` console script."""

from api.cli import main  # the package's __init__ quiets third-party warnings first (issue 22)

main()
