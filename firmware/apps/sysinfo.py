# The board's running figures for the apps' console lines and the server's page: uptime
# since the firmware started and the free heap after a collection. Its own module so the
# apps (demo, demo_server, demo_client) share it without importing each other.
import gc
import time

START_MS = time.ticks_ms()


def uptime():
    """Time since start-up as H:MM:SS."""
    s = time.ticks_diff(time.ticks_ms(), START_MS) // 1000
    return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)


def mem_free():
    """Free heap in bytes, after a collection."""
    gc.collect()
    return gc.mem_free()
