"""``python -m seoul_vc_cli`` runs the CLI."""

from seoul_vc_cli.app import run

run()
