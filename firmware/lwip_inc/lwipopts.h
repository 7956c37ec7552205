/*
 * This file is part of the STM32F4 SSL/TLS emulation lab's MicroPython port.
 *
 * The MIT License (MIT)
 *
 * Copyright (c) 2026 The STM32F4 SSL/TLS lab authors
 *
 * SPDX-License-Identifier: MIT
 * The licence text is in LICENSE at the top of the repository.
 */
// lwIP 2.2 configuration for the lab firmware: NO_SYS raw API for MicroPython's modlwip,
// one Ethernet netif (eth.c), IPv4 only, DHCP client, DNS resolver, TCP/UDP/raw.
// Its memory is in CCM (see "Memory" below).
//
// lwIP runs in one execution context at a time: the ETH interrupt (lowest priority, also
// pended by SysTick for the timers, see mpnetworkport.c) or Python code with that
// interrupt masked (MICROPY_PY_LWIP_ENTER/EXIT). So no sys_arch protection is needed.
#ifndef MICROPY_INCLUDED_STM32LAB_LWIPOPTS_H
#define MICROPY_INCLUDED_STM32LAB_LWIPOPTS_H

#include <stdint.h>

#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            1
#define SYS_ARCH_DECL_PROTECT(lev)      do { } while (0)
#define SYS_ARCH_PROTECT(lev)           do { } while (0)
#define SYS_ARCH_UNPROTECT(lev)         do { } while (0)
typedef uint32_t sys_prot_t;

#define LWIP_NETCONN                    0
#define LWIP_SOCKET                     0
#define LWIP_STATS                      0
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_ARP                        1
#define LWIP_ETHERNET                   1
#define LWIP_RAW                        1
#define LWIP_ICMP                       1
// No IGMP: lwIP runs its IGMP timer every 100 ms whether or not a group is joined, which
// woke an idle board 10 times a second, and nothing here joins a multicast group (the
// driver programs no multicast MAC filter either). socket.setsockopt(IP_ADD_MEMBERSHIP)
// is therefore not available.
#define LWIP_IGMP                       0
#define LWIP_DHCP                       1
#define LWIP_DHCP_CHECK_LINK_UP         1
#define LWIP_DHCP_DOES_ACD_CHECK        0   // QEMU's DHCP server hands out a free address
#define LWIP_DNS                        1
#define LWIP_NETIF_HOSTNAME             1
#define LWIP_NETIF_LINK_CALLBACK        1
#define LWIP_NETIF_STATUS_CALLBACK      1
#define SO_REUSE                        1
#define TCP_LISTEN_BACKLOG              1
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1

// Checksums in software (LWIP_CHKSUM_ALGORITHM 3: 32-bit sums); the MAC's checksum
// offload is not used, so every checksum is checked the same way on any target.
#define LWIP_CHKSUM_ALGORITHM           3

// Memory. lwIP's heap and pools live in CCM (section .ccm.lwip, zeroed at start-up): only
// the Ethernet DMA descriptors and buffers (eth.c) must be in SRAM, and every frame is copied
// between them and pbufs by the CPU, so the 128 KiB of SRAM stays for the MicroPython heap.
// The heap (MEM_SIZE) holds received frames (eth.c copies each into a PBUF_RAM pbuf of its
// own size, so a queued 300-byte ClientHello costs ~330 bytes, not a 1.5 KiB pool buffer)
// and TX segments (modlwip copies data in). Received data stays queued on a socket until
// Python reads it, bounded per connection by the window (TCP_WND).
//
// Connections: up to 24 TCP PCBs: the HTTPS server's TLS sessions, the connections it has
// accepted but not yet given a session (demo_server.py), those waiting in the listen
// backlog, and closed ones in TIME_WAIT (lwIP reuses the oldest when it runs out). A SYN
// beyond the listen backlog is dropped without an answer, so the peer retries it (TCP's own
// back-off) instead of getting a reset (patches/micropython/0004).
#define LWIP_DECLARE_MEMORY_ALIGNED(variable_name, size) \
    u8_t variable_name[LWIP_MEM_ALIGN_BUFFER(size)] \
    __attribute__((section(".ccm.lwip"), aligned(MEM_ALIGNMENT)))
#define MEM_ALIGNMENT                   4
#define MEM_SIZE                        (28 * 1024)
#define TCP_MSS                         (1460)
#define TCP_WND                         (4 * TCP_MSS)
#define TCP_SND_BUF                     (4 * TCP_MSS)
#define TCP_SND_QUEUELEN                (2 * TCP_SND_BUF / TCP_MSS + 2)
#define MEMP_NUM_TCP_SEG                (48)
#define MEMP_NUM_TCP_PCB                (24)
#define MEMP_NUM_TCP_PCB_LISTEN         (4)
#define MEMP_NUM_UDP_PCB                (4)
#define MEMP_NUM_RAW_PCB                (2)
#define MEMP_NUM_PBUF                   (16)
#define PBUF_POOL_SIZE                  (4)
#define DNS_TABLE_SIZE                  (2)
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 2)

// Random numbers (TCP initial ports, DHCP transaction ids): mpnetworkport.c, seeded from
// the hardware RNG.
uint32_t lwip_port_rand(void);
#define LWIP_RAND()                     lwip_port_rand()

#define sys_jiffies sys_now

#endif // MICROPY_INCLUDED_STM32LAB_LWIPOPTS_H
