"""kazoo's ``kazoo.protocol`` package: connection states and path helpers."""
