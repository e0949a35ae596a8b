"""Clients for the external sources (Statistics Norway, …) and local stand-ins used by tests."""
