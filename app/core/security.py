"""Password hashing (Argon2id) and JWT token services (security issue)."""
