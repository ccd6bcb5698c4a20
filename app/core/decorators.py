"""Service-layer decorators (HTTP-contract issue): `require_dto`."""
