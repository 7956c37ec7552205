# demo: ST's "SSL client/server on STM32F4" demonstration (UM1723) as asyncio tasks.
#
# The ST demo runs FreeRTOS threads: LED (LED4 blinks every 200 ms), Ethernet link (cable
# out: interface down, red LED3 on; cable back: interface up, LED2 on, the address shown),
# DHCP client (when enabled) and the SSL client or SSL server thread. Here each is an
# asyncio task under a supervisor: a task that fails is reported on the console in one line
# and started again, so nothing a network peer sends can stop the LED, the link reports or
# the service. lwIP itself runs in the Ethernet interrupt. The role and the addresses come
# from the config flash sector (boardcfg). At power-on the firmware runs app_main, which
# calls boot(); Ctrl-C stops the demo and leaves you at the MicroPython REPL.
#
#     import demo
#     demo.run("server")                      # from the REPL: run a role with the config
#     demo.run("client", server_port=4433)    # ... overriding settings

import asyncio
import gc
import time

import machine
import network

import boardcfg
import lcd_log


class Board:
    """What the tasks share: the config, the LAN, LEDs, task states, the network state."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.lan = network.LAN()
        self.led2 = machine.LED("LED2")   # orange ("yellow" in UM1723): link up with address
        self.led3 = machine.LED("LED3")   # red: cable not connected
        self.led4 = machine.LED("LED4")   # blue: the LED task
        self.ready = asyncio.Event()      # set while the link is up with an address
        self.tasks = {}                   # name -> state, for the HTTPS page
        self.address = None

    def state(self, name, state):
        self.tasks[name] = state


# ST's LCD_LOG_SetHeader titles; the status lines below go to the LCD too (LCD_UsrLog)
LCD_TITLES = {"client": "SSL Client Application", "server": "SSL Server Application"}


def say(text):
    """A status line: on the console and, as ST's demo shows it, on the LCD."""
    print(text)
    lcd_log.log(text.strip())


# --- LED task --------------------------------------------------------------------------

async def led_task(board):
    while True:
        board.state("LED", "Running")
        board.led4.toggle()
        board.state("LED", "Blocked")
        await asyncio.sleep_ms(board.cfg.blink_ms)


# --- Ethernet link and DHCP ------------------------------------------------------------

def _static(board):
    cfg = board.cfg
    board.lan.ifconfig((cfg.ip, cfg.netmask, cfg.gateway, "0.0.0.0"))


def _address_up(board, how):
    board.address = board.lan.ifconfig()[0]
    board.led3.off()
    board.led2.on()
    board.ready.set()
    say(how % board.address)


# The link task looks again at least this often without a change reported (a safety net:
# the driver reports link and address changes through lan.irq, which wakes the task at once)
LINK_LOOK_MS = 1000


async def link_task(board):
    """ST's Ethernet link thread: follows the PHY link (the driver takes the interface down
    and up with it) and reports each change on the console and the LEDs. It sleeps until the
    driver reports a change (lan.irq), so an idle board does not wake for it."""
    changed = asyncio.ThreadSafeFlag()
    board.lan.irq(lambda lan: changed.set())
    try:
        await _follow_link(board, changed)
    finally:
        board.lan.irq(None)


async def _follow_link(board, changed):
    lan, cfg = board.lan, board.cfg
    linked = None
    dhcp_since = None
    while True:
        board.state("Eth link", "Running")
        link = lan.status("link")
        status = lan.status()
        if link != linked:
            linked = link
            if not link:
                board.ready.clear()
                board.address = None
                board.led2.off()
                board.led3.on()
                say("  The network cable is not connected")
            else:
                board.led3.off()
                say("  The network cable is now connected")
                if cfg.dhcp:
                    say("  State: Looking for DHCP server ...")
                    dhcp_since = time.ticks_ms()
                    board.state("DHCP client", "Running")
        if link and not board.ready.is_set() and status == network.LAN.LINK_UP:
            if cfg.dhcp and dhcp_since is not None:
                dhcp_since = None
                board.state("DHCP client", "Blocked")
                _address_up(board, "  IP address assigned by a DHCP server: %s")
            else:
                _address_up(board, "  Static IP address: %s")
        if (link and cfg.dhcp and dhcp_since is not None
                and time.ticks_diff(time.ticks_ms(), dhcp_since) > cfg.dhcp_timeout * 1000):
            # ST's DHCP thread: after its tries, "DHCP Timeout !!" and the static address
            dhcp_since = None
            say("  DHCP Timeout !!")
            board.state("DHCP client", "Suspended")
            lan.ipconfig(dhcp4=False)
            _static(board)
            changed.set()               # look again at once
        board.state("Eth link", "Blocked")
        wait = LINK_LOOK_MS
        if dhcp_since is not None:
            # by the DHCP timeout at the latest
            left = cfg.dhcp_timeout * 1000 - time.ticks_diff(time.ticks_ms(), dhcp_since)
            wait = max(1, min(wait, left + 1))
        try:
            await asyncio.wait_for_ms(changed.wait(), wait)
        except asyncio.TimeoutError:
            pass


def lan_start(board):
    cfg, lan = board.cfg, board.lan
    mac = bytes(int(p, 16) for p in cfg.mac.split(":"))
    if lan.active() and lan.config("mac") != mac:
        lan.active(False)
    lan.config(mac=mac)
    if not lan.active():
        lan.active(True)
    if cfg.dhcp:
        lan.ipconfig(dhcp4=True)
        board.state("DHCP client", "Blocked")
    else:
        _static(board)


# --- the demo ------------------------------------------------------------------------------

def banner(cfg):
    role = {"client": "SSL client", "server": "SSL server (HTTPS)"}[cfg.role]
    print("\nSTM32F4 SSL/TLS lab: %s demonstration (UM1723), %s" % (role, _chip()))
    for w in cfg.warnings:
        print("  ! boardcfg: " + w)
    for line in boardcfg.describe(cfg):
        print(line)
    print("  . Press Ctrl-C for the MicroPython REPL")


def _chip():
    import sys
    return sys.implementation._machine if hasattr(sys.implementation, "_machine") else "STM32F4"


# --- supervisor ------------------------------------------------------------------------------

RESTART_MS = 1000


def _describe(e):
    try:
        import tlsio
        return tlsio.describe(e)
    except Exception:
        return type(e).__name__


async def supervise(board, name, run):
    """Run the task coroutine function run(board) for ever: if it returns or raises, say so
    in one line and start it again after RESTART_MS (Ctrl-C and cancellation go through)."""
    restarts = 0
    while True:
        try:
            await run(board)
            why = "ended"
        except asyncio.CancelledError:
            raise
        except Exception as e:
            why = "failed: " + _describe(e)
        restarts += 1
        board.state(name, "Restarting")
        print("  ! supervisor: the %s task %s; restarting it (restart #%d)" % (name, why, restarts))
        gc.collect()
        await asyncio.sleep_ms(RESTART_MS)


def _exception_handler(loop, context):
    # a task nobody awaits failed (the applications catch their own errors; this is the
    # last boundary): one line, no traceback
    print("  ! task error: %s" % _describe(context["exception"]))


async def _main(board):
    cfg = board.cfg
    if cfg.time:
        import ssl
        ssl.set_time(cfg.time)
    asyncio.get_event_loop().set_exception_handler(_exception_handler)
    lan_start(board)
    if cfg.role == "client":
        import demo_client
        app = ("SSL client", demo_client.task)
    else:
        import demo_server
        app = ("SSL server", demo_server.task)
    await asyncio.gather(supervise(board, "LED", led_task),
                         supervise(board, "Eth link", link_task),
                         supervise(board, *app))


def run(role=None, cfg=None, **settings):
    """Run the demo in the foreground (until Ctrl-C): role 'client' or 'server', the config
    from the sector (or cfg), with settings overriding single keys."""
    cfg = cfg or boardcfg.load()
    if role is not None:
        cfg["role"] = role
    for k, v in settings.items():
        cfg[k] = v
    if cfg.role not in ("client", "server"):
        raise ValueError("role must be 'client' or 'server'")
    # the TLS record buffers first, while the heap is whole (demo_server.prepare)
    __import__("demo_client" if cfg.role == "client" else "demo_server").prepare(cfg)
    banner(cfg)
    lcd_log.init(LCD_TITLES[cfg.role])
    board = Board(cfg)
    try:
        asyncio.run(_main(board))
    finally:
        board.led4.off()
        asyncio.get_event_loop().set_exception_handler(None)
        asyncio.new_event_loop()
        gc.collect()


def boot():
    """At power-on and after a soft reset (app_main): run the configured role."""
    cfg = boardcfg.load()
    if cfg.source == "none":
        return                  # nothing loaded into the sector (QEMU without --config)
    if cfg.role == "repl":
        for w in cfg.warnings:
            print("  ! boardcfg: " + w)
        print("boardcfg: role repl: the MicroPython REPL (import demo; demo.run('client'))")
        return
    try:
        run(cfg=cfg)
    except KeyboardInterrupt:
        print("\ndemo: stopped by Ctrl-C; this is the MicroPython REPL "
              "(Ctrl-D restarts the demo)")
