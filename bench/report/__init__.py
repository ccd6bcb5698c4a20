"""From figures to what a run prints and keeps: ratios over rounds, the table's rows,
the Markdown table and bench/results/latest.json."""
