"""Server-sent events: the encoding (`encoding`), the subscribers and their bounded queues
(`hub`), and one client's stream loop (`client`). Nothing here knows Quart."""
