"""pymongo CommandListener for db_mongo_command_duration_seconds (observability issue)."""
