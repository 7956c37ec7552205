# demo_client: the SSL client thread of ST's SSL_Client application (UM1723 5.1), with the
# console lines of mbedTLS's ssl_client1: it seeds the RNG, loads the CA, connects to the PC
# server (192.168.0.1:443 by default), performs the handshake, verifies the server
# certificate, writes a GET, reads the reply, closes and frees everything; then again after
# the configured period. A failure prints mbedTLS's reason and the client tries again later.

import asyncio
import gc
import socket

import ssl

# errno -> the mbedTLS net layer's words for it
_NET_ERRORS = {
    103: "NET - Connection aborted",
    104: "NET - Connection was reset by peer",
    110: "NET - Timed out",
    111: "NET - Connection refused",
    113: "NET - No route to host",
}
CONNECT_TIMEOUT = 10
IO_TIMEOUT = 20
MAX_REPLY = 16384


class Failed(Exception):
    """A step failed; args: (step's console report lines)."""


def _say(text):
    print(text)


def _net_error(e):
    code = e.args[0] if e.args and isinstance(e.args[0], int) else None
    if code in _NET_ERRORS:
        return "%s (errno %d)" % (_NET_ERRORS[code], code)
    return "%s" % (e,)


def _reason(e):
    """mbedTLS's reason for a failed handshake: (code, text lines)."""
    if isinstance(e, ssl.SSLCertVerificationError):
        text = e.args[1] if len(e.args) > 1 else str(e)
        if text.startswith("certificate verify failed: "):
            text = text[len("certificate verify failed: "):]
        return -0x2700, [r.strip() for r in text.split(";") if r.strip()]
    if len(e.args) > 1 and isinstance(e.args[0], int) and e.args[0] < 0:
        return e.args[0], [str(e.args[1])]
    if e.args and isinstance(e.args[0], int) and e.args[0] in _NET_ERRORS:
        return None, [_net_error(e)]
    return None, [str(e) or type(e).__name__]


def _hex(code):
    return "-0x%x" % -code if code < 0 else "0x%x" % code


def _expected_length(head):
    """Header plus Content-Length bytes, once the header is complete; else None."""
    end = head.find(b"\r\n\r\n")
    if end < 0:
        return None
    for line in head[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return end + 4 + int(value.strip())
            except ValueError:
                return None
    return None


def connect_once(cfg, number):
    """One connection, every step on the console; True when it went through."""
    host, port, name = cfg.server_ip, cfg.server_port, cfg.hostname()
    sock = tls = ctx = None
    try:
        print("\n  . Seeding the random number generator...", end="")
        try:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        except Exception as e:
            code, lines = _reason(e)
            raise Failed("mbedtls_ctr_drbg_seed returned %s" % _hex(code or -0x34), lines)
        print(" ok")

        print("  . Loading the CA root certificate ...", end="")
        if not cfg.ca:
            raise Failed("no CA certificate in the configuration",
                         ["put the CA in the config sector (ca= and its PEM block)"])
        try:
            ctx.load_verify_locations(cadata=cfg.ca)
        except Exception as e:
            code, lines = _reason(e)
            raise Failed("mbedtls_x509_crt_parse returned %s" % _hex(code or -0x2180), lines)
        print(" ok")
        if cfg.cert and cfg.key:
            print("  . Loading the client certificate and key...", end="")
            try:
                ctx.load_cert_chain(cfg.cert, cfg.key)
            except Exception as e:
                code, lines = _reason(e)
                raise Failed("mbedtls_pk_parse_key returned %s" % _hex(code or -0x3d00), lines)
            print(" ok")

        print("  . Connecting to tcp/%s/%d..." % (host, port), end="")
        sock = socket.socket()
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            sock.connect(socket.getaddrinfo(host, port)[0][-1])
        except OSError as e:
            raise Failed("mbedtls_net_connect returned -0x52", [_net_error(e)])
        print(" ok")

        print("  . Performing the SSL/TLS handshake...", end="")
        sock.settimeout(IO_TIMEOUT)
        try:
            tls = ctx.wrap_socket(sock, server_hostname=name)
        except ssl.SSLCertVerificationError as e:
            code, lines = _reason(e)
            print(" failed\n  ! mbedtls_ssl_handshake returned %s" % _hex(code))
            print("  . Verifying peer X.509 certificate...", end="")
            raise Failed("the server certificate was refused (%s)" % name, lines)
        except OSError as e:
            code, lines = _reason(e)
            if code is None:
                raise Failed("mbedtls_ssl_handshake failed", lines)
            raise Failed("mbedtls_ssl_handshake returned %s" % _hex(code), lines)
        sock = None             # tls owns it now
        print(" ok")
        print("    [ Protocol is %s ]" % tls.version())
        print("    [ Ciphersuite is %s ]" % tls.cipher_suite())
        # mbedTLS verified the chain, the dates and the name during the handshake
        # (CERT_REQUIRED): a refused certificate fails it, reported above.
        print("  . Verifying peer X.509 certificate... ok")

        request = "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: stm32-ssl-client\r\n\r\n" % (
            cfg.path, name)
        print("  > Write to server:", end="")
        try:
            tls.write(request.encode())
        except OSError as e:
            code, lines = _reason(e)
            raise Failed("mbedtls_ssl_write returned %s" % _hex(code or -1), lines)
        print(" %d bytes written\n\n%s" % (len(request), request), end="")

        print("  < Read from server:", end="")
        reply = []
        total = 0
        expected = None
        while total < MAX_REPLY:
            try:
                data = tls.recv(2048)
            except OSError as e:
                code, lines = _reason(e)
                if code == -0x7880:        # PEER_CLOSE_NOTIFY: a clean end
                    break
                if total:
                    break                  # what arrived is shown; the peer just went
                raise Failed("mbedtls_ssl_read returned %s" % _hex(code or -1), lines)
            if not data:
                break
            reply.append(data)
            total += len(data)
            if expected is None:
                expected = _expected_length(b"".join(reply))
            if expected is not None and total >= expected:
                break           # the whole response (the peer's FIN may come late)
        text = b"".join(reply).decode("utf-8", "replace") if reply else ""
        print(" %d bytes read\n\n%s" % (total, text))
        if not total:
            raise Failed("the server sent nothing", ["connection closed before a reply"])
        return True
    except Failed as f:
        print(" failed\n  ! %s" % f.args[0])
        for line in f.args[1]:
            print("  ! " + line)
        return False
    finally:
        print("  . Closing the connection and freeing the SSL structures...", end="")
        for obj in (tls, sock):
            if obj is not None:
                try:
                    obj.close()
                except OSError:
                    pass
        tls = sock = ctx = None
        gc.collect()
        print(" ok (free heap %d bytes)" % gc.mem_free())


async def task(board):
    cfg = board.cfg
    number = 0
    while True:
        board.state("SSL client", "Blocked")
        if not board.ready.is_set():
            print("  . SSL client: waiting for the network ...")
            await board.ready.wait()
        number += 1
        board.state("SSL client", "Running")
        ok = connect_once(cfg, number)
        board.state("SSL client", "Blocked")
        if ok:
            print("  . Connection #%d done; the next one in %d s" % (number, cfg.period))
        else:
            print("  ! Connection #%d failed; the SSL client tries again in %d s"
                  % (number, cfg.period))
        await asyncio.sleep(cfg.period)
