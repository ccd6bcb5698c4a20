"""(observability issue)"""
