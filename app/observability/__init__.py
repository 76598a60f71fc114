"""Request ids, structured logs and Prometheus metrics: what an operator sees of a running server."""
