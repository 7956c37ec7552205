/*
 * WIZnet W5100 hardwired TCP/IP embedded Ethernet controller, SPI mode
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_W5100_H
#define HW_NET_W5100_H

#include "hw/ssi/ssi.h"
#include "net/net.h"
#include "qemu/timer.h"
#include "qom/object.h"

#define TYPE_W5100 "w5100"
OBJECT_DECLARE_SIMPLE_TYPE(W5100State, W5100)

#define W5100_NUM_SOCKETS   4
#define W5100_COMMON_SIZE   0x30
#define W5100_SOCKET_SIZE   0x30        /* registers used of each 0x100 */
#define W5100_MEM_SIZE      0x2000      /* 8 KiB TX, 8 KiB RX */
#define W5100_MAX_PORTS     16          /* entries of forward and listen */

typedef struct W5100PortMap {
    uint16_t guest;
    uint16_t host;
} W5100PortMap;

typedef struct W5100Socket {
    W5100State *w5100;
    int n;
    uint8_t regs[W5100_SOCKET_SIZE];
    /* RX: where the next byte from the host goes, and RX_RD at the last RECV */
    uint16_t rx_wr;
    uint16_t rx_rd;
    /* host side, not migrated */
    int fd;                 /* connection or UDP socket */
    int listen_fd;          /* LISTEN: the host port's listening socket */
    bool peer_closed;       /* EOF from the host peer */
    bool rx_blocked;        /* the next UDP datagram waits for room */
    GByteArray *pending;    /* SEND data not yet taken by the host socket */
    QEMUTimer *timeout;     /* RTR x (RCR + 1) for unreachable peers */
} W5100Socket;

struct W5100State {
    SSIPeripheral parent_obj;

    uint8_t common[W5100_COMMON_SIZE];
    W5100Socket sock[W5100_NUM_SOCKETS];
    uint8_t tx_mem[W5100_MEM_SIZE];
    uint8_t rx_mem[W5100_MEM_SIZE];

    /* the SPI frame being shifted in: opcode, address high, low, data */
    uint8_t frame[4];
    uint8_t frame_pos;

    qemu_irq irq;           /* INT, active low */
    NICConf conf;           /* socket 0 in MACRAW mode */
    NICState *nic;
    bool in_reset;          /* RESET pin held low */

    /* the lab's network rule: the lab host and its port mappings */
    char *host;
    char *forward;
    char *listen;
    uint32_t host_addr;
    W5100PortMap forwards[W5100_MAX_PORTS];
    int num_forwards;
    W5100PortMap listens[W5100_MAX_PORTS];
    int num_listens;
};

#endif
