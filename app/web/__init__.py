"""The web board: the Quart application (`application`), its routes, the service layer around
them (access control, headers, health, metrics) and serving with hypercorn (`serve`)."""
