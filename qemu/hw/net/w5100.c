/*
 * WIZnet W5100 hardwired TCP/IP embedded Ethernet controller, SPI mode
 *
 * Reference: WIZnet "W5100 Datasheet" version 1.2 (2008): 3 "Register
 * descriptions" (memory map, common and socket registers), 5 "Functional
 * descriptions" (socket commands and states), 6.3 "SPI" (frames).
 *
 * The chip is an SSI peripheral with an active-low chip select. Every access
 * is one 4-byte frame: 0xF0 (write) or 0x0F (read), address high, address
 * low, data; during the four bytes the chip answers 0x00, 0x01, 0x02 and then
 * 0x03 (write) or the addressed byte (read). A frame with another opcode is a
 * guest error and does nothing; deasserting the chip select restarts the
 * frame.
 *
 * The chip's own TCP/IP stack is carried by host sockets under the lab's
 * network rule: the only peer that exists is the lab host (property "host",
 * 192.168.0.1), and its ports are 127.0.0.1 ports through two tables:
 *  - "forward" = "GUESTPORT:HOSTPORT,...": a TCP CONNECT or a UDP datagram
 *    to host:GUESTPORT goes to 127.0.0.1:HOSTPORT (and UDP answers from
 *    there come back as from host:GUESTPORT);
 *  - "listen" = "HOSTPORT:GUESTPORT,...": a TCP socket in LISTEN on
 *    GUESTPORT (or a UDP socket bound to it) takes what arrives on
 *    127.0.0.1:HOSTPORT.
 * Anything else is unreachable: a CONNECT or a UDP SEND to it is a guest
 * error and ends in TIMEOUT after RTR x (RCR + 1) (the datasheet's ARP
 * timeout) in virtual time. Nothing is ever bound or connected to an address
 * other than 127.0.0.1. Host sockets are non-blocking and served from the
 * main loop (fd handlers), never from the vCPU.
 *
 * Modelled: common registers MR (RST self-clearing), GAR, SUBR, SHAR, SIPR,
 * IR (CONFLICT, UNREACH, PPPoE write-1-to-clear; socket bits follow Sn_IR),
 * IMR, RTR, RCR, RMSR, TMSR, PATR, PTIMER, PMAGIC, UIPR, UPORT; four sockets
 * with Sn_MR, Sn_CR (OPEN, LISTEN, CONNECT, DISCON, CLOSE, SEND, SEND_MAC,
 * SEND_KEEP, RECV; reads 0 once executed), Sn_IR (write-1-to-clear), Sn_SR,
 * Sn_PORT, Sn_DHAR, Sn_DIPR, Sn_DPORT, Sn_MSSR, Sn_PROTO, Sn_TOS, Sn_TTL,
 * Sn_TX_FSR, Sn_TX_RD, Sn_TX_WR, Sn_RX_RSR, Sn_RX_RD; the 8 KiB TX and RX
 * memories split by TMSR/RMSR, free-running 16-bit pointers masked into
 * each socket's window. UDP data in the RX memory is preceded by the 8-byte
 * header (peer IP, port, length). INT is low while IR & IMR is not 0. The
 * RESET input (active low) holds the chip in reset.
 *
 * MACRAW (socket 0 only) is attached to a QEMU NIC (-nic/-netdev, so the
 * user-mode network with restrict=on, or a loopback socket backend): SEND
 * puts the TX data on the wire as one frame; each frame received lands in
 * the RX memory behind a 2-byte big-endian length that counts itself; with
 * Sn_MR.MF only frames to SHAR and broadcast are taken. A frame that does not
 * fit waits in QEMU's queue until a RECV.
 *
 * Not modelled: IPRAW sockets and PPPoE (logged as unimplemented; the socket
 * stays CLOSED), ICMP (ping block, UNREACH), IP conflict, the
 * parallel bus modes of MR (IND, AI stored only), Sn_DHAR learning (kept as
 * written), TCP timing: data the host socket accepted is SEND_OK at once.
 * Migration keeps the registers and memories; host connections are not
 * migrated: after loading, a socket that had one is CLOSED with DISCON.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/sockets.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "hw/net/w5100.h"
#include "trace.h"

/* SPI opcodes (6.3) */
#define OP_WRITE        0xF0
#define OP_READ         0x0F

/* Memory map (3) */
#define COMMON_END      0x0030
#define SOCKET_BASE     0x0400
#define SOCKET_STRIDE   0x0100
#define SOCKET_END      0x0800
#define TX_BASE         0x4000
#define RX_BASE         0x6000
#define MEM_END         0x8000

/* Common registers (3.1) */
enum {
    MR = 0x00, GAR = 0x01, SUBR = 0x05, SHAR = 0x09, SIPR = 0x0F,
    IR = 0x15, IMR = 0x16, RTR = 0x17, RCR = 0x19, RMSR = 0x1A, TMSR = 0x1B,
    PATR = 0x1C, PTIMER = 0x28, PMAGIC = 0x29, UIPR = 0x2A, UPORT = 0x2E,
};
#define MR_RST          0x80
#define MR_WMASK        0x1B        /* PB, PPPoE, AI, IND */
#define IR_W1C          0xE0        /* CONFLICT, UNREACH, PPPoE */

/* Socket registers (3.2), offsets in the socket's block */
enum {
    SN_MR = 0x00, SN_CR = 0x01, SN_IR = 0x02, SN_SR = 0x03, SN_PORT = 0x04,
    SN_DHAR = 0x06, SN_DIPR = 0x0C, SN_DPORT = 0x10, SN_MSSR = 0x12,
    SN_PROTO = 0x14, SN_TOS = 0x15, SN_TTL = 0x16, SN_TX_FSR = 0x20,
    SN_TX_RD = 0x22, SN_TX_WR = 0x24, SN_RX_RSR = 0x26, SN_RX_RD = 0x28,
};

/* Sn_MR protocol */
enum {
    PROTO_CLOSED = 0, PROTO_TCP = 1, PROTO_UDP = 2, PROTO_IPRAW = 3,
    PROTO_MACRAW = 4, PROTO_PPPOE = 5,
};
#define SN_MR_PROTO     0x0F
#define SN_MR_MF        0x40        /* MACRAW: own MAC and broadcast only */

/* Sn_CR commands */
enum {
    CMD_OPEN = 0x01, CMD_LISTEN = 0x02, CMD_CONNECT = 0x04, CMD_DISCON = 0x08,
    CMD_CLOSE = 0x10, CMD_SEND = 0x20, CMD_SEND_MAC = 0x21,
    CMD_SEND_KEEP = 0x22, CMD_RECV = 0x40,
};

/* Sn_IR */
#define SN_IR_CON       0x01
#define SN_IR_DISCON    0x02
#define SN_IR_RECV      0x04
#define SN_IR_TIMEOUT   0x08
#define SN_IR_SEND_OK   0x10

/* Sn_SR */
enum {
    SOCK_CLOSED = 0x00, SOCK_INIT = 0x13, SOCK_LISTEN = 0x14,
    SOCK_SYNSENT = 0x15, SOCK_ESTABLISHED = 0x17, SOCK_FIN_WAIT = 0x18,
    SOCK_CLOSE_WAIT = 0x1C, SOCK_UDP = 0x22, SOCK_MACRAW = 0x42,
};

#define SOCKET_REGS_END 0x2A        /* 0x2A..0xFF of a socket: reserved */
#define UDP_HEADER      8
#define MACRAW_HEADER   2
#define MAX_FRAME       1514
#define LAB_HOST        "192.168.0.1"

static void w5100_socket_close(W5100Socket *so);
static void w5100_socket_handlers(W5100Socket *so);

/* --- registers ------------------------------------------------------- */

static uint16_t get16(const uint8_t *p)
{
    return p[0] << 8 | p[1];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static uint8_t sn_sr(W5100Socket *so)
{
    return so->regs[SN_SR];
}

static void set_state(W5100Socket *so, uint8_t state)
{
    if (so->regs[SN_SR] != state) {
        trace_w5100_socket_state(so->n, so->regs[SN_SR], state);
        so->regs[SN_SR] = state;
    }
}

static void w5100_update_irq(W5100State *s)
{
    uint8_t ir = s->common[IR] & IR_W1C;
    int n;

    for (n = 0; n < W5100_NUM_SOCKETS; n++) {
        if (s->sock[n].regs[SN_IR]) {
            ir |= 1 << n;
        }
    }
    s->common[IR] = ir;
    /* INT is active low */
    qemu_set_irq(s->irq, !(ir & s->common[IMR]));
}

static void raise_sn_ir(W5100Socket *so, uint8_t bits)
{
    trace_w5100_socket_irq(so->n, bits);
    so->regs[SN_IR] |= bits;
    w5100_update_irq(so->w5100);
}

/*
 * Buffer sizes and bases (3.1 RMSR/TMSR): 1, 2, 4 or 8 KiB per socket from
 * socket 0 up; a socket whose size no longer fits in the 8 KiB gets none.
 */
static void buffer_window(W5100State *s, bool tx, int n, uint16_t *base,
                          uint16_t *size)
{
    uint8_t msr = s->common[tx ? TMSR : RMSR];
    uint16_t offset = 0;
    int i;

    for (i = 0; i < W5100_NUM_SOCKETS; i++) {
        uint16_t sz = 1024 << extract32(msr, i * 2, 2);

        if (offset + sz > W5100_MEM_SIZE) {
            sz = 0;
        }
        if (i == n) {
            *base = offset;
            *size = sz;
            return;
        }
        offset += sz;
    }
}

static uint16_t rx_size(W5100Socket *so)
{
    uint16_t base, size;

    buffer_window(so->w5100, false, so->n, &base, &size);
    return size;
}

static uint16_t tx_size(W5100Socket *so)
{
    uint16_t base, size;

    buffer_window(so->w5100, true, so->n, &base, &size);
    return size;
}

static uint16_t rx_used(W5100Socket *so)
{
    return so->rx_wr - so->rx_rd;
}

static uint16_t rx_free(W5100Socket *so)
{
    uint16_t size = rx_size(so);

    return size > rx_used(so) ? size - rx_used(so) : 0;
}

static uint16_t tx_free(W5100Socket *so)
{
    uint16_t size = tx_size(so);
    uint32_t used = (uint16_t)(get16(&so->regs[SN_TX_WR]) -
                               get16(&so->regs[SN_TX_RD]));

    if (so->pending) {
        used += so->pending->len;
    }
    return size > used ? size - used : 0;
}

/* Copy into the socket's RX window at rx_wr, wrapping inside it */
static void rx_put(W5100Socket *so, const uint8_t *data, size_t len)
{
    uint16_t base, size;
    size_t i;

    buffer_window(so->w5100, false, so->n, &base, &size);
    for (i = 0; i < len; i++) {
        so->w5100->rx_mem[base + (so->rx_wr & (size - 1))] = data[i];
        so->rx_wr++;
    }
}

/* --- the lab's network rule ---------------------------------------- */

static bool parse_port_map(const char *spec, const char *name,
                           W5100PortMap *map, int *count, bool guest_first,
                           Error **errp)
{
    g_auto(GStrv) items = NULL;
    int i;

    *count = 0;
    if (!spec || !*spec) {
        return true;
    }
    items = g_strsplit(spec, ",", -1);
    for (i = 0; items[i]; i++) {
        unsigned a, b;
        char end;

        if (sscanf(items[i], "%u:%u%c", &a, &b, &end) != 2 ||
            !a || a > 65535 || !b || b > 65535) {
            error_setg(errp, "%s: '%s' is not PORT:PORT", name, items[i]);
            return false;
        }
        if (*count == W5100_MAX_PORTS) {
            error_setg(errp, "%s: more than %d entries", name,
                       W5100_MAX_PORTS);
            return false;
        }
        map[*count].guest = guest_first ? a : b;
        map[*count].host = guest_first ? b : a;
        (*count)++;
    }
    return true;
}

/* The 127.0.0.1 port of lab-host:port, or 0 if the peer is unreachable */
static uint16_t host_port_for(W5100Socket *so)
{
    W5100State *s = so->w5100;
    uint32_t ip = ldl_be_p(&so->regs[SN_DIPR]);
    uint16_t port = get16(&so->regs[SN_DPORT]);
    int i;

    if (ip != s->host_addr) {
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: %u.%u.%u.%u is not "
                      "reachable: the lab's only peer is %u.%u.%u.%u\n", so->n,
                      ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF,
                      s->host_addr >> 24, (s->host_addr >> 16) & 0xFF,
                      (s->host_addr >> 8) & 0xFF, s->host_addr & 0xFF);
        return 0;
    }
    for (i = 0; i < s->num_forwards; i++) {
        if (s->forwards[i].guest == port) {
            return s->forwards[i].host;
        }
    }
    qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: port %u of the lab "
                  "host is not forwarded (property 'forward')\n", so->n, port);
    return 0;
}

static void loopback_addr(struct sockaddr_in *sa, uint16_t port)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa->sin_port = htons(port);
}

/* A socket bound to 127.0.0.1:port (0: any free port), non-blocking */
static int loopback_socket(int type, uint16_t port)
{
    struct sockaddr_in sa;
    int one = 1;
    int fd = qemu_socket(AF_INET, type, 0);

    if (fd < 0) {
        return -1;
    }
    qemu_socket_set_nonblock(fd);
    if (port) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    loopback_addr(&sa, port);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The host port the lab maps onto the socket's own port (listen table) */
static uint16_t listen_port_for(W5100Socket *so)
{
    W5100State *s = so->w5100;
    uint16_t port = get16(&so->regs[SN_PORT]);
    int i;

    for (i = 0; i < s->num_listens; i++) {
        if (s->listens[i].guest == port) {
            return s->listens[i].host;
        }
    }
    return 0;
}

/* The guest port a UDP answer from 127.0.0.1:host_port appears to come from */
static uint16_t guest_port_of(W5100State *s, uint16_t host_port)
{
    int i;

    for (i = 0; i < s->num_forwards; i++) {
        if (s->forwards[i].host == host_port) {
            return s->forwards[i].guest;
        }
    }
    return host_port;
}

static void start_timeout(W5100Socket *so)
{
    W5100State *s = so->w5100;
    /* RTR counts 100 us; RCR retries after the first attempt (3.1) */
    int64_t ns = (int64_t)get16(&s->common[RTR]) * 100 * SCALE_US *
                 (s->common[RCR] + 1);

    timer_mod(so->timeout, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + ns);
}

static void w5100_timeout(void *opaque)
{
    W5100Socket *so = opaque;

    if (sn_sr(so) == SOCK_UDP) {
        /* the datagram could not be sent; the socket stays open */
        raise_sn_ir(so, SN_IR_TIMEOUT);
        return;
    }
    w5100_socket_close(so);
    set_state(so, SOCK_CLOSED);
    raise_sn_ir(so, SN_IR_TIMEOUT);
}

/* --- host socket I/O ------------------------------------------------ */

static void w5100_tcp_flush(W5100Socket *so)
{
    while (so->fd >= 0 && so->pending && so->pending->len) {
        ssize_t n = send(so->fd, so->pending->data, so->pending->len,
                         MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                break;
            }
            /* the peer is gone: as a TCP reset */
            trace_w5100_host_error(so->n, "send", errno);
            g_byte_array_set_size(so->pending, 0);
            w5100_socket_close(so);
            set_state(so, SOCK_CLOSED);
            raise_sn_ir(so, SN_IR_DISCON);
            return;
        }
        g_byte_array_remove_range(so->pending, 0, n);
        if (!so->pending->len) {
            raise_sn_ir(so, SN_IR_SEND_OK);
        }
    }
    if (so->fd >= 0 && sn_sr(so) == SOCK_FIN_WAIT && !so->pending->len) {
        shutdown(so->fd, SHUT_WR);
    }
}

static void w5100_tcp_read(W5100Socket *so)
{
    uint8_t buf[2048];
    uint16_t room = MIN(rx_free(so), sizeof(buf));
    ssize_t n;

    if (!room) {
        return;
    }
    n = recv(so->fd, buf, room, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            return;
        }
        trace_w5100_host_error(so->n, "recv", errno);
        w5100_socket_close(so);
        set_state(so, SOCK_CLOSED);
        raise_sn_ir(so, SN_IR_DISCON);
        return;
    }
    if (n == 0) {
        /* FIN from the peer */
        so->peer_closed = true;
        if (sn_sr(so) == SOCK_FIN_WAIT) {
            w5100_socket_close(so);
            set_state(so, SOCK_CLOSED);
        } else {
            set_state(so, SOCK_CLOSE_WAIT);
        }
        raise_sn_ir(so, SN_IR_DISCON);
        return;
    }
    rx_put(so, buf, n);
    trace_w5100_host_data(so->n, "in", n);
    raise_sn_ir(so, SN_IR_RECV);
}

static void w5100_udp_read(W5100Socket *so)
{
    uint8_t buf[UDP_HEADER + 2048];
    struct sockaddr_in from;
    socklen_t fromlen = sizeof(from);
    ssize_t n;

    /* the datagram's size first: it waits in the host queue until it fits */
    n = recv(so->fd, buf, 1, MSG_PEEK | MSG_TRUNC);
    if (n < 0) {
        return;
    }
    if (n + UDP_HEADER > rx_free(so) && n + UDP_HEADER <= rx_size(so)) {
        so->rx_blocked = true;      /* until a RECV frees space */
        return;
    }
    n = recvfrom(so->fd, buf + UDP_HEADER, sizeof(buf) - UDP_HEADER, 0,
                 (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
        return;
    }
    if (n + UDP_HEADER > rx_free(so)) {
        trace_w5100_host_data(so->n, "dropped (larger than the RX buffer)",
                              n);
        return;
    }
    stl_be_p(buf, so->w5100->host_addr);
    put16(buf + 4, guest_port_of(so->w5100, ntohs(from.sin_port)));
    put16(buf + 6, n);
    rx_put(so, buf, n + UDP_HEADER);
    trace_w5100_host_data(so->n, "in", n);
    raise_sn_ir(so, SN_IR_RECV);
}

static void w5100_fd_read(void *opaque)
{
    W5100Socket *so = opaque;

    if (sn_sr(so) == SOCK_UDP) {
        w5100_udp_read(so);
    } else {
        w5100_tcp_read(so);
    }
    w5100_socket_handlers(so);
}

static void w5100_fd_write(void *opaque)
{
    W5100Socket *so = opaque;

    if (sn_sr(so) == SOCK_SYNSENT) {
        int err = 0;
        socklen_t len = sizeof(err);

        if (getsockopt(so->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
            err = errno;
        }
        if (err == EINPROGRESS) {
            return;
        }
        if (err) {
            /* refused: nothing listens on the mapped port */
            trace_w5100_host_error(so->n, "connect", err);
            w5100_socket_close(so);
            set_state(so, SOCK_CLOSED);
            raise_sn_ir(so, SN_IR_TIMEOUT);
            return;
        }
        set_state(so, SOCK_ESTABLISHED);
        raise_sn_ir(so, SN_IR_CON);
    } else {
        w5100_tcp_flush(so);
    }
    w5100_socket_handlers(so);
}

static void w5100_accept(void *opaque)
{
    W5100Socket *so = opaque;
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    int fd = accept(so->listen_fd, (struct sockaddr *)&peer, &len);

    if (fd < 0) {
        return;
    }
    qemu_socket_set_nonblock(fd);
    /* the W5100 socket becomes the connection; the port listens no more */
    qemu_set_fd_handler(so->listen_fd, NULL, NULL, NULL);
    close(so->listen_fd);
    so->listen_fd = -1;
    so->fd = fd;
    so->peer_closed = false;
    stl_be_p(&so->regs[SN_DIPR], so->w5100->host_addr);
    put16(&so->regs[SN_DPORT], ntohs(peer.sin_port));
    set_state(so, SOCK_ESTABLISHED);
    raise_sn_ir(so, SN_IR_CON);
    w5100_socket_handlers(so);
}

/* Watch the host socket for what the W5100 socket can take now */
static void w5100_socket_handlers(W5100Socket *so)
{
    uint8_t sr = sn_sr(so);
    bool rd, wr;

    if (so->listen_fd >= 0) {
        qemu_set_fd_handler(so->listen_fd, w5100_accept, NULL, so);
    }
    if (so->fd < 0) {
        return;
    }
    rd = !so->peer_closed && !so->rx_blocked &&
         rx_free(so) > (sr == SOCK_UDP ? UDP_HEADER : 0) &&
         (sr == SOCK_ESTABLISHED || sr == SOCK_FIN_WAIT || sr == SOCK_UDP);
    wr = sr == SOCK_SYNSENT || (so->pending && so->pending->len);
    qemu_set_fd_handler(so->fd, rd ? w5100_fd_read : NULL,
                        wr ? w5100_fd_write : NULL, so);
}

/* Drop the host side of a socket */
static void w5100_socket_close(W5100Socket *so)
{
    timer_del(so->timeout);
    if (so->fd >= 0) {
        qemu_set_fd_handler(so->fd, NULL, NULL, NULL);
        close(so->fd);
        so->fd = -1;
    }
    if (so->listen_fd >= 0) {
        qemu_set_fd_handler(so->listen_fd, NULL, NULL, NULL);
        close(so->listen_fd);
        so->listen_fd = -1;
    }
    so->peer_closed = false;
    so->rx_blocked = false;
    if (so->pending) {
        g_byte_array_set_size(so->pending, 0);
    }
}

/* --- socket commands (5) ------------------------------------------- */

static void cmd_open(W5100Socket *so)
{
    uint8_t proto = so->regs[SN_MR] & SN_MR_PROTO;
    uint16_t port;

    w5100_socket_close(so);
    set_state(so, SOCK_CLOSED);
    put16(&so->regs[SN_TX_RD], get16(&so->regs[SN_TX_WR]));
    so->rx_rd = so->rx_wr = get16(&so->regs[SN_RX_RD]);
    switch (proto) {
    case PROTO_TCP:
        set_state(so, SOCK_INIT);
        break;
    case PROTO_UDP:
        /* a lab listen entry for the port, else any free loopback port */
        port = listen_port_for(so);
        so->fd = loopback_socket(SOCK_DGRAM, port);
        if (so->fd < 0) {
            qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: cannot bind "
                          "127.0.0.1:%u: %s\n", so->n, port, strerror(errno));
            return;
        }
        set_state(so, SOCK_UDP);
        break;
    case PROTO_MACRAW:
        if (so->n) {
            qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: MACRAW is for "
                          "socket 0 only\n", so->n);
            break;
        }
        set_state(so, SOCK_MACRAW);
        qemu_flush_queued_packets(qemu_get_queue(so->w5100->nic));
        break;
    case PROTO_IPRAW:
    case PROTO_PPPOE:
        qemu_log_mask(LOG_UNIMP, "w5100: socket %d: Sn_MR protocol %u (IPRAW, "
                      "PPPoE) is not modelled\n", so->n, proto);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: OPEN with Sn_MR "
                      "protocol %u\n", so->n, proto);
        break;
    }
}

static void cmd_listen(W5100Socket *so)
{
    uint16_t port = listen_port_for(so);

    set_state(so, SOCK_LISTEN);
    if (!port) {
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: no host port maps "
                      "to port %u (property 'listen'): nobody can connect\n",
                      so->n, get16(&so->regs[SN_PORT]));
        return;
    }
    so->listen_fd = loopback_socket(SOCK_STREAM, port);
    if (so->listen_fd < 0 || listen(so->listen_fd, 1) < 0) {
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: cannot listen on "
                      "127.0.0.1:%u: %s\n", so->n, port, strerror(errno));
        if (so->listen_fd >= 0) {
            close(so->listen_fd);
            so->listen_fd = -1;
        }
    }
}

static void cmd_connect(W5100Socket *so)
{
    uint16_t port = host_port_for(so);
    struct sockaddr_in sa;

    set_state(so, SOCK_SYNSENT);
    if (!port) {
        start_timeout(so);
        return;
    }
    so->fd = loopback_socket(SOCK_STREAM, 0);
    if (so->fd < 0) {
        start_timeout(so);
        return;
    }
    loopback_addr(&sa, port);
    if (connect(so->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
        errno != EINPROGRESS) {
        trace_w5100_host_error(so->n, "connect", errno);
        close(so->fd);
        so->fd = -1;
        start_timeout(so);
    }
}

static void cmd_discon(W5100Socket *so)
{
    if (sn_sr(so) == SOCK_CLOSE_WAIT || so->peer_closed) {
        /* the peer has closed already: the exchange of FINs is complete */
        w5100_socket_close(so);
        set_state(so, SOCK_CLOSED);
        raise_sn_ir(so, SN_IR_DISCON);
        return;
    }
    /* the peer's FIN closes it; without one it times out as on the chip */
    set_state(so, SOCK_FIN_WAIT);
    start_timeout(so);
    w5100_tcp_flush(so);
}

/* The bytes between Sn_TX_RD and Sn_TX_WR, wrapping in the socket's window */
static bool take_tx_data(W5100Socket *so, GByteArray *out)
{
    uint16_t base, size, rd = get16(&so->regs[SN_TX_RD]);
    uint16_t len = get16(&so->regs[SN_TX_WR]) - rd;
    uint16_t i;

    buffer_window(so->w5100, true, so->n, &base, &size);
    /* what the host socket has not taken yet still occupies the buffer */
    if (len + out->len > size) {
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: SEND of %u bytes "
                      "(%u still unsent), more than its %u-byte TX buffer\n",
                      so->n, len, out->len, size);
        return false;
    }
    for (i = 0; i < len; i++, rd++) {
        g_byte_array_append(out, &so->w5100->tx_mem[base + (rd & (size - 1))],
                            1);
    }
    put16(&so->regs[SN_TX_RD], rd);
    return true;
}

static void cmd_send(W5100Socket *so)
{
    if (sn_sr(so) == SOCK_MACRAW) {
        g_autoptr(GByteArray) frame = g_byte_array_new();

        if (!take_tx_data(so, frame)) {
            return;
        }
        if (frame->len > MAX_FRAME) {
            qemu_log_mask(LOG_GUEST_ERROR, "w5100: MACRAW frame of %u bytes "
                          "(at most %u) dropped\n", frame->len, MAX_FRAME);
        } else if (frame->len) {
            qemu_send_packet(qemu_get_queue(so->w5100->nic), frame->data,
                             frame->len);
            trace_w5100_host_data(so->n, "frame out", frame->len);
        }
        raise_sn_ir(so, SN_IR_SEND_OK);
        return;
    }
    if (sn_sr(so) == SOCK_UDP) {
        g_autoptr(GByteArray) dgram = g_byte_array_new();
        uint16_t port = host_port_for(so);
        struct sockaddr_in sa;

        if (!take_tx_data(so, dgram)) {
            return;
        }
        if (!port) {
            start_timeout(so);
            return;
        }
        loopback_addr(&sa, port);
        if (sendto(so->fd, dgram->data, dgram->len, 0,
                   (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            trace_w5100_host_error(so->n, "sendto", errno);
        } else {
            trace_w5100_host_data(so->n, "out", dgram->len);
        }
        raise_sn_ir(so, SN_IR_SEND_OK);
        return;
    }
    if (!take_tx_data(so, so->pending)) {
        return;
    }
    trace_w5100_host_data(so->n, "out", so->pending->len);
    if (!so->pending->len) {
        raise_sn_ir(so, SN_IR_SEND_OK);
        return;
    }
    w5100_tcp_flush(so);
}

static void cmd_recv(W5100Socket *so)
{
    uint16_t rd = get16(&so->regs[SN_RX_RD]);

    if ((uint16_t)(rd - so->rx_rd) > rx_used(so)) {
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: RECV with Sn_RX_RD "
                      "0x%04x past the received data (0x%04x..0x%04x)\n",
                      so->n, rd, so->rx_rd, so->rx_wr);
        return;
    }
    so->rx_rd = rd;
    so->rx_blocked = false;
    if (sn_sr(so) == SOCK_MACRAW) {
        qemu_flush_queued_packets(qemu_get_queue(so->w5100->nic));
    }
}

static void w5100_command(W5100Socket *so, uint8_t cmd)
{
    uint8_t sr = sn_sr(so);
    bool tcp_open = sr == SOCK_ESTABLISHED || sr == SOCK_CLOSE_WAIT;
    bool ok = true;

    trace_w5100_command(so->n, cmd, sr);
    switch (cmd) {
    case CMD_OPEN:
        cmd_open(so);
        break;
    case CMD_LISTEN:
        ok = sr == SOCK_INIT;
        if (ok) {
            cmd_listen(so);
        }
        break;
    case CMD_CONNECT:
        ok = sr == SOCK_INIT;
        if (ok) {
            cmd_connect(so);
        }
        break;
    case CMD_DISCON:
        ok = tcp_open;
        if (ok) {
            cmd_discon(so);
        }
        break;
    case CMD_CLOSE:
        w5100_socket_close(so);
        set_state(so, SOCK_CLOSED);
        break;
    case CMD_SEND:
    case CMD_SEND_MAC:
        ok = tcp_open || sr == SOCK_UDP || sr == SOCK_MACRAW;
        if (ok) {
            cmd_send(so);
        }
        break;
    case CMD_SEND_KEEP:
        /* the host's TCP keeps the connection alive */
        ok = sr == SOCK_ESTABLISHED;
        break;
    case CMD_RECV:
        ok = tcp_open || sr == SOCK_UDP || sr == SOCK_FIN_WAIT ||
             sr == SOCK_MACRAW;
        if (ok) {
            cmd_recv(so);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: unknown Sn_CR "
                      "command 0x%02x\n", so->n, cmd);
        return;
    }
    if (!ok) {
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: command 0x%02x in "
                      "state 0x%02x ignored\n", so->n, cmd, sr);
    }
    w5100_socket_handlers(so);
}

/* --- register file --------------------------------------------------- */

static void w5100_socket_reset(W5100Socket *so)
{
    w5100_socket_close(so);
    memset(so->regs, 0, sizeof(so->regs));
    memset(&so->regs[SN_DHAR], 0xFF, 6);
    so->regs[SN_TTL] = 0x80;
    so->rx_wr = 0;
    so->rx_rd = 0;
}

static void w5100_soft_reset(W5100State *s)
{
    int n;

    memset(s->common, 0, sizeof(s->common));
    put16(&s->common[RTR], 0x07D0);
    s->common[RCR] = 0x08;
    s->common[RMSR] = 0x55;
    s->common[TMSR] = 0x55;
    s->common[PTIMER] = 0x28;
    for (n = 0; n < W5100_NUM_SOCKETS; n++) {
        w5100_socket_reset(&s->sock[n]);
    }
    w5100_update_irq(s);
}

static uint8_t socket_read(W5100Socket *so, uint16_t off)
{
    switch (off) {
    case SN_CR:
        return 0;       /* commands execute at once */
    case SN_TX_FSR:
    case SN_TX_FSR + 1:
        return tx_free(so) >> (off == SN_TX_FSR ? 8 : 0);
    case SN_RX_RSR:
    case SN_RX_RSR + 1:
        return rx_used(so) >> (off == SN_RX_RSR ? 8 : 0);
    case SN_RX_RD:
    case SN_RX_RD + 1:
    default:
        if (off >= SOCKET_REGS_END || (off > SN_TTL && off < SN_TX_FSR)) {
            qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: read of "
                          "reserved offset 0x%02x\n", so->n, off);
            return 0;
        }
        return so->regs[off];
    }
}

static void socket_write(W5100Socket *so, uint16_t off, uint8_t value)
{
    switch (off) {
    case SN_MR:
        if (so->n && ((value & SN_MR_PROTO) == PROTO_MACRAW ||
                      (value & SN_MR_PROTO) == PROTO_PPPOE)) {
            qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: MACRAW and "
                          "PPPoE are for socket 0 only\n", so->n);
        }
        so->regs[off] = value;
        break;
    case SN_CR:
        w5100_command(so, value);
        break;
    case SN_IR:
        so->regs[SN_IR] &= ~value;
        w5100_update_irq(so->w5100);
        break;
    case SN_SR:
    case SN_TX_FSR:
    case SN_TX_FSR + 1:
    case SN_TX_RD:
    case SN_TX_RD + 1:
    case SN_RX_RSR:
    case SN_RX_RSR + 1:
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: offset 0x%02x is "
                      "read-only\n", so->n, off);
        break;
    default:
        if (off >= SOCKET_REGS_END || (off > SN_TTL && off < SN_TX_FSR)) {
            qemu_log_mask(LOG_GUEST_ERROR, "w5100: socket %d: write to "
                          "reserved offset 0x%02x\n", so->n, off);
            break;
        }
        so->regs[off] = value;
        if (off == SN_RX_RD + 1 || off == SN_TX_WR + 1) {
            w5100_socket_handlers(so);
        }
        break;
    }
}

static bool common_reserved(uint16_t addr)
{
    return (addr >= 0x13 && addr < IR) || (addr > PATR + 1 && addr < PTIMER);
}

static uint8_t w5100_read(W5100State *s, uint16_t addr)
{
    if (addr < COMMON_END) {
        if (common_reserved(addr)) {
            qemu_log_mask(LOG_GUEST_ERROR, "w5100: read of reserved address "
                          "0x%04x\n", addr);
            return 0;
        }
        return s->common[addr];
    }
    if (addr >= SOCKET_BASE && addr < SOCKET_END) {
        return socket_read(&s->sock[(addr - SOCKET_BASE) / SOCKET_STRIDE],
                           addr % SOCKET_STRIDE);
    }
    if (addr >= TX_BASE && addr < RX_BASE) {
        return s->tx_mem[addr - TX_BASE];
    }
    if (addr >= RX_BASE && addr < MEM_END) {
        return s->rx_mem[addr - RX_BASE];
    }
    qemu_log_mask(LOG_GUEST_ERROR, "w5100: read of unassigned address "
                  "0x%04x\n", addr);
    return 0;
}

static void w5100_write(W5100State *s, uint16_t addr, uint8_t value)
{
    if (addr < COMMON_END) {
        switch (addr) {
        case MR:
            if (value & MR_RST) {
                trace_w5100_soft_reset();
                w5100_soft_reset(s);
                value &= ~MR_RST;
            }
            s->common[MR] = value & MR_WMASK;
            return;
        case IR:
            s->common[IR] &= ~(value & IR_W1C);
            w5100_update_irq(s);
            return;
        case IMR:
            s->common[IMR] = value;
            w5100_update_irq(s);
            return;
        case PATR:
        case PATR + 1:
        case UIPR ... UPORT + 1:
            qemu_log_mask(LOG_GUEST_ERROR, "w5100: address 0x%04x is "
                          "read-only\n", addr);
            return;
        default:
            if (common_reserved(addr)) {
                qemu_log_mask(LOG_GUEST_ERROR, "w5100: write to reserved "
                              "address 0x%04x\n", addr);
                return;
            }
            s->common[addr] = value;
            if (addr == RMSR || addr == TMSR) {
                for (int n = 0; n < W5100_NUM_SOCKETS; n++) {
                    w5100_socket_handlers(&s->sock[n]);
                }
            }
            return;
        }
    }
    if (addr >= SOCKET_BASE && addr < SOCKET_END) {
        socket_write(&s->sock[(addr - SOCKET_BASE) / SOCKET_STRIDE],
                     addr % SOCKET_STRIDE, value);
        return;
    }
    if (addr >= TX_BASE && addr < RX_BASE) {
        s->tx_mem[addr - TX_BASE] = value;
        return;
    }
    if (addr >= RX_BASE && addr < MEM_END) {
        s->rx_mem[addr - RX_BASE] = value;
        return;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "w5100: write to unassigned address "
                  "0x%04x\n", addr);
}

/* --- MACRAW: socket 0 on a QEMU NIC ------------------------------- */

static bool w5100_can_receive(NetClientState *nc)
{
    W5100State *s = qemu_get_nic_opaque(nc);
    W5100Socket *so = &s->sock[0];

    /* a frame for a socket not in MACRAW mode is dropped on the wire */
    return sn_sr(so) != SOCK_MACRAW || rx_free(so) > MACRAW_HEADER;
}

static ssize_t w5100_receive(NetClientState *nc, const uint8_t *buf,
                             size_t size)
{
    W5100State *s = qemu_get_nic_opaque(nc);
    W5100Socket *so = &s->sock[0];
    static const uint8_t broadcast[6] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
    };
    uint8_t header[MACRAW_HEADER];

    if (s->in_reset || sn_sr(so) != SOCK_MACRAW || size > MAX_FRAME ||
        size < 14) {
        return size;
    }
    if ((so->regs[SN_MR] & SN_MR_MF) && memcmp(buf, &s->common[SHAR], 6) &&
        memcmp(buf, broadcast, 6)) {
        return size;
    }
    if (MACRAW_HEADER + size > rx_size(so)) {
        trace_w5100_host_data(0, "frame dropped (larger than the RX buffer)",
                              size);
        return size;
    }
    if (MACRAW_HEADER + size > rx_free(so)) {
        return 0;       /* queued until a RECV makes room */
    }
    put16(header, MACRAW_HEADER + size);
    rx_put(so, header, MACRAW_HEADER);
    rx_put(so, buf, size);
    trace_w5100_host_data(0, "frame in", size);
    raise_sn_ir(so, SN_IR_RECV);
    return size;
}

static NetClientInfo net_w5100_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = w5100_can_receive,
    .receive = w5100_receive,
};

/* --- SPI ---------------------------------------------------------- */

static uint32_t w5100_transfer(SSIPeripheral *dev, uint32_t val)
{
    W5100State *s = W5100(dev);
    uint8_t pos = s->frame_pos;
    uint16_t addr;
    uint8_t out = pos;

    if (s->in_reset) {
        return 0;
    }
    s->frame[pos] = val;
    if (pos < 3) {
        s->frame_pos++;
        return out;
    }
    s->frame_pos = 0;
    addr = s->frame[1] << 8 | s->frame[2];
    switch (s->frame[0]) {
    case OP_WRITE:
        trace_w5100_write(addr, s->frame[3]);
        w5100_write(s, addr, s->frame[3]);
        return 3;
    case OP_READ:
        out = w5100_read(s, addr);
        trace_w5100_read(addr, out);
        return out;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: SPI frame with opcode 0x%02x "
                      "(0xF0 write, 0x0F read) ignored\n", s->frame[0]);
        return 3;
    }
}

static int w5100_set_cs(SSIPeripheral *dev, bool level)
{
    W5100State *s = W5100(dev);

    if (s->frame_pos) {
        qemu_log_mask(LOG_GUEST_ERROR, "w5100: chip select changed after "
                      "%u bytes of a 4-byte frame\n", s->frame_pos);
    }
    s->frame_pos = 0;
    return 0;
}

static void w5100_reset_in(void *opaque, int n, int level)
{
    W5100State *s = opaque;

    s->in_reset = !level;
    if (s->in_reset) {
        w5100_soft_reset(s);
        s->frame_pos = 0;
    }
}

/* --- device ------------------------------------------------------ */

static void w5100_reset_hold(Object *obj, ResetType type)
{
    W5100State *s = W5100(obj);

    w5100_soft_reset(s);
    s->frame_pos = 0;
    /* the shield's pull-up keeps the chip deselected until a pin drives it */
    SSI_PERIPHERAL(s)->cs = true;
}

static void w5100_realize(SSIPeripheral *dev, Error **errp)
{
    W5100State *s = W5100(dev);
    const char *lab_host = s->host ? s->host : LAB_HOST;
    struct in_addr host;

    if (!inet_aton(lab_host, &host)) {
        error_setg(errp, "host: '%s' is not an IPv4 address", lab_host);
        return;
    }
    s->host_addr = ntohl(host.s_addr);
    if (!parse_port_map(s->forward, "forward", s->forwards, &s->num_forwards,
                        true, errp) ||
        !parse_port_map(s->listen, "listen", s->listens, &s->num_listens,
                        false, errp)) {
        return;
    }
    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    s->nic = qemu_new_nic(&net_w5100_info, &s->conf,
                          object_get_typename(OBJECT(s)), DEVICE(s)->id,
                          &DEVICE(s)->mem_reentrancy_guard, s);
    qemu_format_nic_info_str(qemu_get_queue(s->nic), s->conf.macaddr.a);
}

static void w5100_init(Object *obj)
{
    W5100State *s = W5100(obj);
    int n;

    for (n = 0; n < W5100_NUM_SOCKETS; n++) {
        W5100Socket *so = &s->sock[n];

        so->w5100 = s;
        so->n = n;
        so->fd = -1;
        so->listen_fd = -1;
        so->pending = g_byte_array_new();
        so->timeout = timer_new_ns(QEMU_CLOCK_VIRTUAL, w5100_timeout, so);
    }
    qdev_init_gpio_out_named(DEVICE(obj), &s->irq, "int", 1);
    qdev_init_gpio_in_named(DEVICE(obj), w5100_reset_in, "reset", 1);
}

static void w5100_finalize(Object *obj)
{
    W5100State *s = W5100(obj);
    int n;

    for (n = 0; n < W5100_NUM_SOCKETS; n++) {
        w5100_socket_close(&s->sock[n]);
        g_byte_array_unref(s->sock[n].pending);
        timer_free(s->sock[n].timeout);
    }
    if (s->nic) {
        qemu_del_nic(s->nic);
    }
}

/* Host connections do not survive a migration: their sockets end CLOSED */
static int w5100_post_load(void *opaque, int version_id)
{
    W5100State *s = opaque;
    int n;

    if (s->frame_pos > 3) {
        return -EINVAL;
    }
    for (n = 0; n < W5100_NUM_SOCKETS; n++) {
        W5100Socket *so = &s->sock[n];

        w5100_socket_close(so);
        if (sn_sr(so) != SOCK_CLOSED && sn_sr(so) != SOCK_INIT) {
            set_state(so, SOCK_CLOSED);
            so->regs[SN_IR] |= SN_IR_DISCON;
        }
    }
    w5100_update_irq(s);
    return 0;
}

static const VMStateDescription vmstate_w5100_socket = {
    .name = "w5100-socket",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT8_ARRAY(regs, W5100Socket, W5100_SOCKET_SIZE),
        VMSTATE_UINT16(rx_wr, W5100Socket),
        VMSTATE_UINT16(rx_rd, W5100Socket),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_w5100 = {
    .name = TYPE_W5100,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = w5100_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_SSI_PERIPHERAL(parent_obj, W5100State),
        VMSTATE_UINT8_ARRAY(common, W5100State, W5100_COMMON_SIZE),
        VMSTATE_STRUCT_ARRAY(sock, W5100State, W5100_NUM_SOCKETS, 1,
                             vmstate_w5100_socket, W5100Socket),
        VMSTATE_UINT8_ARRAY(tx_mem, W5100State, W5100_MEM_SIZE),
        VMSTATE_UINT8_ARRAY(rx_mem, W5100State, W5100_MEM_SIZE),
        VMSTATE_UINT8_ARRAY(frame, W5100State, 4),
        VMSTATE_UINT8(frame_pos, W5100State),
        VMSTATE_BOOL(in_reset, W5100State),
        VMSTATE_END_OF_LIST()
    }
};

static const Property w5100_properties[] = {
    /* the lab host's address as the guest sees it (default 192.168.0.1) */
    DEFINE_PROP_STRING("host", W5100State, host),
    DEFINE_PROP_STRING("forward", W5100State, forward),
    DEFINE_PROP_STRING("listen", W5100State, listen),
    DEFINE_NIC_PROPERTIES(W5100State, conf),
};

static void w5100_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    SSIPeripheralClass *k = SSI_PERIPHERAL_CLASS(klass);

    k->realize = w5100_realize;
    k->transfer = w5100_transfer;
    k->set_cs = w5100_set_cs;
    k->cs_polarity = SSI_CS_LOW;
    rc->phases.hold = w5100_reset_hold;
    dc->vmsd = &vmstate_w5100;
    dc->desc = "WIZnet W5100 TCP/IP Ethernet controller (SPI)";
    device_class_set_props(dc, w5100_properties);
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
}

static const TypeInfo w5100_types[] = {
    {
        .name          = TYPE_W5100,
        .parent        = TYPE_SSI_PERIPHERAL,
        .instance_size = sizeof(W5100State),
        .instance_init = w5100_init,
        .instance_finalize = w5100_finalize,
        .class_init    = w5100_class_init,
    },
};

DEFINE_TYPES(w5100_types)
