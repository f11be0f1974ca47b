"""Subcommands of the `openee` CLI: one module each, with `add_parser(subparsers)`."""
