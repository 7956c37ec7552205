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
#define LWIP_IGMP                       1
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

// Memory. The heap (MEM_SIZE) holds TX segments (modlwip copies data in); received frames
// are copied out of the DMA buffers into pool pbufs, which stay queued on a socket until
// Python reads them, so the pool bounds what can be buffered for reading.
#define MEM_ALIGNMENT                   4
#define MEM_SIZE                        (12 * 1024)
#define TCP_MSS                         (1460)
#define TCP_WND                         (4 * TCP_MSS)
#define TCP_SND_BUF                     (4 * TCP_MSS)
#define TCP_SND_QUEUELEN                (2 * TCP_SND_BUF / TCP_MSS + 2)
#define MEMP_NUM_TCP_SEG                (TCP_SND_QUEUELEN + 4)
#define MEMP_NUM_TCP_PCB                (8)
#define MEMP_NUM_TCP_PCB_LISTEN         (4)
#define MEMP_NUM_UDP_PCB                (4)
#define MEMP_NUM_RAW_PCB                (2)
#define MEMP_NUM_PBUF                   (16)
#define PBUF_POOL_SIZE                  (8)
#define DNS_TABLE_SIZE                  (2)
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 2)

// Random numbers (TCP initial ports, DHCP transaction ids): mpnetworkport.c, seeded from
// the hardware RNG.
uint32_t lwip_port_rand(void);
#define LWIP_RAND()                     lwip_port_rand()

#define sys_jiffies sys_now

#endif // MICROPY_INCLUDED_STM32LAB_LWIPOPTS_H
