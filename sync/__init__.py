"""Both ends of the kiosk <-> district wire: protocol, kiosk client, reference server."""
