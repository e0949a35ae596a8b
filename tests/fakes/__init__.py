"""Test doubles: local servers speaking the SSB PxWebApi and KLASS protocols."""
