"""`make bench`: our full stack side by side with a bare FastAPI app, plus the cost figures
the other issues ask for (logger, /metrics rendering, password hashing, User-Agent parsing).
"""
