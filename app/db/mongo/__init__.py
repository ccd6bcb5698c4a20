"""MongoDB (optional): the client factory and its command-metrics listener."""

from app.db.mongo.client import create_mongo_client
from app.db.mongo.monitoring import CommandMetricsListener

__all__ = ["CommandMetricsListener", "create_mongo_client"]
