"""Sans-IO core: no Twisted, no stomp.py, no sockets, no threads, no wall clock."""
