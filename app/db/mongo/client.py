"""pymongo AsyncMongoClient factory (observability issue)."""
