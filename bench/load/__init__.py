"""Load on the apps: server processes on their own core, accounts to log in with, the load
generator on the other core(s), and the servers' CPU time and memory."""
