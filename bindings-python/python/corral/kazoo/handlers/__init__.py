"""kazoo's handler package. corral.kazoo has the threading handler only:
gevent and eventlet are out of scope (use :mod:`corral.aio` for asyncio)."""
