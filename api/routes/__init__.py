"""The routers: thin over `graph`, one module per resource."""
