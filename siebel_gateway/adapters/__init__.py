"""Thin Twisted shells around the sans-IO core: broker links (and, later, the SCS server).

Only ``stomp_link`` knows that stomp.py has threads; everything it hands back runs on
the reactor thread.
"""
