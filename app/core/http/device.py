"""Device/browser info extraction from request headers (HTTP-contract issue)."""
