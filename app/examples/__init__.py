"""Example code the README shows verbatim and the tests call; not mounted by the service."""
