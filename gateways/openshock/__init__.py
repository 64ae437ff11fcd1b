"""OpenShock's realtime surfaces: the hub websocket (FlatBuffers) and live control."""
