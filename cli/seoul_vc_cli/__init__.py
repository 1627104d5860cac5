"""The ``seoul-vc`` command line: a thin typer surface over the public seoul_vc API."""
