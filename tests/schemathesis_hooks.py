"""schemathesis hooks for tests/api_schemathesis.sh."""
