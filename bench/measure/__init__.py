"""One module a section of the table; each `measure(workdir)` returns that section's
figures, as latest.json holds them."""
