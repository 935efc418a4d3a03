"""An in-repo stand-in for the subset of ArangoDB's HTTP API whimbrel uses.

No ArangoDB server can be installed on the project's machines, so the
ArangoDB suite runs against this server unless ``WHIMBREL_TEST_ARANGO_URL``
names a real one. It is verified against ArangoDB 3.12's documented HTTP
contract (each handler cites its page), not against a server.
"""
