"""Data-quality checks (Great Expectations suites), their findings, and the digest to the working group."""
