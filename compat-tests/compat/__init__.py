"""Helpers of the weigence-chat contract suite: settings, Flask cookies, users, HTTP and
Socket.IO clients, and the parity table. The tests only see the server through these."""
