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
// Ethernet MAC + DMA (RM0090 33) with the DP83848 PHY over MII, and the lwIP netif on it.
#ifndef MICROPY_INCLUDED_STM32LAB_ETH_H
#define MICROPY_INCLUDED_STM32LAB_ETH_H

#include <stdbool.h>
#include <stdint.h>

struct netif;

// Interface state as network.LAN.status() reports it.
#define ETH_LINK_FAIL   (-1)    // the DMA stopped on a fatal bus error (re-activate to recover)
#define ETH_LINK_DOWN   (0)     // inactive, or no cable/link partner
#define ETH_LINK_JOIN   (1)     // PHY link up, interface not yet up
#define ETH_LINK_NOIP   (2)     // link up, no IPv4 address (DHCP in progress)
#define ETH_LINK_UP     (3)     // link up with an address: ready for traffic

typedef struct _eth_stats_t {
    uint32_t rx_frames;         // frames handed to lwIP
    uint32_t tx_frames;         // frames given to the DMA
    uint32_t rx_errors;         // frames the MAC flagged (ES) or that did not fit one buffer
    uint32_t rx_dropped;        // good frames dropped: no pbuf, or lwIP refused them
    uint32_t tx_errors;         // no free TX descriptor in time, or frame too long
    uint32_t rx_suspended;      // times the RX DMA ran out of descriptors (RBUS)
    uint32_t link_changes;      // PHY link transitions seen
    uint32_t phy_interrupts;    // PHY interrupt pin assertions serviced
} eth_stats_t;

extern eth_stats_t eth_stats;

// Bring up clocks, pins, MAC, DMA and PHY, then add the netif (static address given, DHCP
// off). Returns NULL, or a message saying what failed (the hardware is left stopped).
const char *eth_start(const uint8_t mac[6], uint32_t ip, uint32_t netmask, uint32_t gw);
// Remove the netif and stop the DMA and MAC; safe to call when stopped.
void eth_stop(void);
bool eth_is_active(void);
struct netif *eth_netif(void);

// The MAC address the next eth_start uses (and, while active, set in the MAC at once).
void eth_set_mac(const uint8_t mac[6]);
const uint8_t *eth_get_mac(void);

int eth_link_status(void);      // ETH_LINK_*
bool eth_phy_link_up(void);     // last PHY link state seen
uint32_t eth_speed_mbps(void);  // 10 or 100 (0 while the link is down)
bool eth_full_duplex(void);

// Work done in the lwIP context (mpnetworkport.c): received frames into lwIP, DMA errors,
// and the PHY link check when due (check_link) or when the PHY interrupt pin is asserted.
void eth_service(bool check_link);
// The DP83848's active-low interrupt output, when the board routes it to a pin.
bool eth_phy_irq_pending(void);
// Milliseconds until the link check is due (0: now; UINT32_MAX: the interface is down).
uint32_t eth_link_check_due_ms(void);

// Called on link or address changes, from the lwIP context (keep it short).
extern void (*eth_change_hook)(void);

#endif // MICROPY_INCLUDED_STM32LAB_ETH_H
