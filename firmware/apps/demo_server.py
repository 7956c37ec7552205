# demo_server: the SSL server thread of ST's SSL_Server application (UM1723 5.2): HTTPS on
# port 443 serving a page with the running tasks and their state, the page hits, the cipher
# suite and protocol of the connection, uptime and free memory. The console shows the
# connection status, the handshake result, the request size and the response size, as in
# UM1723's Figure 13. Optional client-certificate authentication (client_auth=required).

import asyncio
import gc
import socket

import ssl

import demo

HANDSHAKE_TIMEOUT = 20
MAX_REQUEST = 4096


class Server:
    def __init__(self, board):
        self.board = board
        self.hits = 0
        self.connections = 0
        self.ctx = None

    def setup(self):
        """mbedTLS structures shared by every connection; None if they cannot be made."""
        cfg = self.board.cfg
        print("\n  . Loading the server cert. and key...", end="")
        if not (cfg.cert and cfg.key):
            print(" failed\n  ! no server certificate and key in the configuration "
                  "(cert= and key= with their PEM blocks)")
            return False
        try:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cfg.cert, cfg.key)
            if cfg.client_auth != "none":
                if not cfg.ca:
                    raise ValueError("client_auth=%s needs the clients' CA (ca=)" % cfg.client_auth)
                ctx.load_verify_locations(cadata=cfg.ca)
                ctx.verify_mode = (ssl.CERT_REQUIRED if cfg.client_auth == "required"
                                   else ssl.CERT_OPTIONAL)
        except (OSError, ValueError) as e:
            print(" failed\n  ! %s" % (e.args[1] if len(e.args) > 1 else e))
            return False
        print(" ok")
        print("  . Seeding the random number generator... ok")
        print("  . Setting up the SSL data.... ok (client certificates %s)" % cfg.client_auth)
        self.ctx = ctx
        return True

    def page(self, tls):
        board = self.board
        free = demo.mem_free()
        rows = "".join("<tr><td>%s</td><td>%s</td></tr>\n" % (name, state)
                       for name, state in sorted(board.tasks.items()))
        rows += "<tr><td>lwIP (Ethernet interrupt)</td><td>Interrupt</td></tr>\n"
        return """<html><head><title>STM32F4xx SSL server</title></head><body>
<h1>STM32F4xx SSL/TLS server</h1>
<p>Successful connection using: %s</p>
<p>Protocol: %s</p>
<p>Page hits: %d</p>
<h2>Tasks</h2>
<table border="1"><tr><th>Task</th><th>State</th></tr>
%s</table>
<p>Uptime: %s</p>
<p>Free memory: %d bytes</p>
<p>Board %s, MAC %s</p>
</body></html>
""" % (tls.cipher_suite(), tls.version(), self.hits, rows, demo.uptime(), free,
            board.address, board.cfg.mac)

    def serve(self, sock, peer):
        """One connection (blocking: the ST server thread also serves one at a time)."""
        board = self.board
        self.connections += 1
        print(" ok (#%d from %s)" % (self.connections, peer))
        print("  . Performing the SSL/TLS handshake...", end="")
        tls = None
        try:
            sock.setblocking(True)
            sock.settimeout(HANDSHAKE_TIMEOUT)
            try:
                tls = self.ctx.wrap_socket(sock, server_side=True)
            except ssl.SSLCertVerificationError as e:
                print(" failed\n  ! the client certificate was refused: %s"
                      % (e.args[1] if len(e.args) > 1 else e))
                return
            except OSError as e:
                if len(e.args) > 1 and isinstance(e.args[0], int):
                    print(" failed\n  ! mbedtls_ssl_handshake returned -0x%x: %s"
                          % (-e.args[0], e.args[1]))
                else:
                    print(" failed\n  ! %s" % (e,))
                return
            print(" ok")
            print("    [ Protocol is %s ]" % tls.version())
            print("    [ Ciphersuite is %s ]" % tls.cipher_suite())
            request = b""
            while b"\r\n\r\n" not in request and len(request) < MAX_REQUEST:
                data = tls.recv(1024)
                if not data:
                    break
                request += data
            print("  < Read from client: %d bytes read" % len(request))
            line = request.split(b"\r\n", 1)[0].decode("utf-8", "replace")
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "GET" and parts[1] in ("/", "/index.html"):
                self.hits += 1
                body = self.page(tls)
                status = "200 OK"
            else:
                body = "<html><body><h1>404 Not Found</h1></body></html>\n"
                status = "404 Not Found"
            body = body.encode()
            head = ("HTTP/1.0 %s\r\nServer: STM32F4 SSL server\r\nContent-Type: text/html\r\n"
                    "Content-Length: %d\r\nConnection: close\r\n\r\n" % (status, len(body)))
            tls.write(head.encode() + body)
            print("  > Write to client: Successfully write %d bytes to client"
                  % (len(head) + len(body)))
        except OSError as e:
            print("  ! connection error: %s" % (e,))
        finally:
            for obj in (tls, sock):
                if obj is not None:
                    try:
                        obj.close()
                    except OSError:
                        pass
            tls = sock = None
            gc.collect()

    async def run(self):
        board = self.board
        cfg = board.cfg
        board.state("SSL server", "Blocked")
        await board.ready.wait()
        if not self.setup():
            board.state("SSL server", "Suspended")
            return
        print("  . Bind on https://%s:%d/ ..." % (board.address, cfg.port), end="")
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("0.0.0.0", cfg.port))
        listener.listen(2)
        listener.setblocking(False)
        print(" ok")
        try:
            while True:
                print("\n  . Waiting for a remote connection ...", end="")
                while True:
                    board.state("SSL server", "Blocked")
                    yield asyncio.core._io_queue.queue_read(listener)
                    try:
                        conn, addr = listener.accept()
                        break
                    except OSError:
                        continue            # woken for nothing (EAGAIN)
                board.state("SSL server", "Running")
                self.serve(conn, _peer(addr))
        finally:
            listener.close()


def _peer(addr):
    # lwIP's socket gives the peer as (ip, port)
    try:
        return "%s:%d" % (addr[0], addr[1])
    except (TypeError, IndexError):
        return str(addr)


async def task(board):
    await Server(board).run()
