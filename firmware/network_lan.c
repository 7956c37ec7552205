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
// network.LAN: the board's Ethernet interface (eth.c) as MicroPython's network API.
//
//     import network
//     lan = network.LAN()
//     lan.active(True)                  # static 192.168.0.10/24, gateway 192.168.0.1
//     lan.ipconfig(dhcp4=True)          # or a DHCP lease (lan.isconnected() once bound)
//     lan.status()                      # LAN.LINK_DOWN / LINK_JOIN / LINK_NOIP / LINK_UP
//     lan.irq(lambda lan: print(lan.status()))   # called on link and address changes
#include <string.h>
#include "py/mpconfig.h"

#if MICROPY_PY_NETWORK && MICROPY_PY_LWIP

#include "py/runtime.h"
#include "py/mphal.h"
#include "py/mperrno.h"
#include "py/nlr.h"
#include "shared/netutils/netutils.h"
#include "extmod/modnetwork.h"
#include "lwip/netif.h"
#include "lwip/dhcp.h"
#include "lwip/ip4_addr.h"
#include "eth.h"
#include "mpnetworkport.h"

#define LAN_DEFAULT_IP      PP_HTONL(LWIP_MAKEU32(192, 168, 0, 10))
#define LAN_DEFAULT_NETMASK PP_HTONL(LWIP_MAKEU32(255, 255, 255, 0))
#define LAN_DEFAULT_GW      PP_HTONL(LWIP_MAKEU32(192, 168, 0, 1))
#define LAN_DHCP_TIMEOUT_MS (10000)

typedef struct _network_lan_obj_t {
    mp_obj_base_t base;
} network_lan_obj_t;

extern const mp_obj_type_t network_lan_type;
static const network_lan_obj_t network_lan_obj = {{&network_lan_type}};

MP_REGISTER_ROOT_POINTER(mp_obj_t network_lan_irq_handler);

// From the lwIP context (or from Python with lwIP masked): hand the change to Python.
static void network_lan_changed(void) {
    mp_obj_t handler = MP_STATE_PORT(network_lan_irq_handler);
    if (handler != MP_OBJ_NULL && handler != mp_const_none) {
        mp_sched_schedule(handler, MP_OBJ_FROM_PTR(&network_lan_obj));
    }
}

void network_lan_init0(void) {
    MP_STATE_PORT(network_lan_irq_handler) = mp_const_none;
    eth_change_hook = network_lan_changed;
}

static void network_lan_check_active(void) {
    if (!eth_is_active()) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("LAN is not active; call active(True) first"));
    }
}

// Call fun with lwIP masked; an exception unmasks it before it propagates.
typedef mp_obj_t (*locked_fun_t)(struct netif *netif, size_t n_args, const mp_obj_t *args, mp_map_t *kw);

static mp_obj_t network_lan_call_locked(locked_fun_t fun, size_t n_args, const mp_obj_t *args, mp_map_t *kw) {
    nlr_buf_t nlr;
    uint32_t state = mpnetworkport_lock();
    if (nlr_push(&nlr) == 0) {
        mp_obj_t ret = fun(eth_netif(), n_args, args, kw);
        nlr_pop();
        mpnetworkport_unlock(state);
        return ret;
    }
    mpnetworkport_unlock(state);
    nlr_jump(nlr.ret_val);
}

static mp_obj_t network_lan_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 0, false);
    mod_network_register_nic(MP_OBJ_FROM_PTR(&network_lan_obj));
    return MP_OBJ_FROM_PTR(&network_lan_obj);
}

static void network_lan_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    struct netif *netif = eth_netif();
    if (!eth_is_active()) {
        mp_printf(print, "<LAN inactive>");
        return;
    }
    const ip4_addr_t *ip = netif_ip4_addr(netif);
    mp_printf(print, "<LAN status=%d link=%s ip=%u.%u.%u.%u>", eth_link_status(),
        eth_phy_link_up() ? "up" : "down",
        ip4_addr1(ip), ip4_addr2(ip), ip4_addr3(ip), ip4_addr4(ip));
}

static mp_obj_t network_lan_active(size_t n_args, const mp_obj_t *args) {
    if (n_args == 1) {
        return mp_obj_new_bool(eth_is_active());
    }
    uint32_t state = mpnetworkport_lock();
    const char *err = NULL;
    if (mp_obj_is_true(args[1])) {
        err = eth_start(eth_get_mac(), LAN_DEFAULT_IP, LAN_DEFAULT_NETMASK, LAN_DEFAULT_GW);
    } else {
        eth_stop();
    }
    mpnetworkport_unlock(state);
    if (err != NULL) {
        mp_raise_msg_varg(&mp_type_OSError, MP_ERROR_TEXT("Ethernet: %s"), err);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(network_lan_active_obj, 1, 2, network_lan_active);

static mp_obj_t network_lan_isconnected(mp_obj_t self_in) {
    return mp_obj_new_bool(eth_link_status() == ETH_LINK_UP);
}
static MP_DEFINE_CONST_FUN_OBJ_1(network_lan_isconnected_obj, network_lan_isconnected);

static mp_obj_t network_lan_status(size_t n_args, const mp_obj_t *args) {
    if (n_args == 1) {
        return MP_OBJ_NEW_SMALL_INT(eth_link_status());
    }
    switch (mp_obj_str_get_qstr(args[1])) {
        case MP_QSTR_link:
            return mp_obj_new_bool(eth_phy_link_up());
        case MP_QSTR_speed:
            return MP_OBJ_NEW_SMALL_INT(eth_speed_mbps());
        case MP_QSTR_duplex:
            return MP_OBJ_NEW_QSTR(eth_speed_mbps() == 0 ? MP_QSTR_ : eth_full_duplex() ? MP_QSTR_full : MP_QSTR_half);
        case MP_QSTR_stats: {
            eth_stats_t s;
            uint32_t state = mpnetworkport_lock();
            s = eth_stats;
            mpnetworkport_unlock(state);
            mp_obj_t dict = mp_obj_new_dict(8);
            #define STAT(name) mp_obj_dict_store(dict, MP_OBJ_NEW_QSTR(MP_QSTR_##name), mp_obj_new_int_from_uint(s.name))
            STAT(rx_frames);
            STAT(tx_frames);
            STAT(rx_errors);
            STAT(rx_dropped);
            STAT(tx_errors);
            STAT(rx_suspended);
            STAT(link_changes);
            STAT(phy_interrupts);
            #undef STAT
            return dict;
        }
        default:
            mp_raise_ValueError(MP_ERROR_TEXT("unknown status param; use 'link', 'speed', 'duplex' or 'stats'"));
    }
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(network_lan_status_obj, 1, 2, network_lan_status);

static mp_obj_t lan_ifconfig_locked(struct netif *netif, size_t n_args, const mp_obj_t *args, mp_map_t *kw) {
    return mod_network_nic_ifconfig(netif, n_args, args);
}

static mp_obj_t lan_dhcp_start_locked(struct netif *netif, size_t n_args, const mp_obj_t *args, mp_map_t *kw) {
    if (!dhcp_supplied_address(netif)) {
        // No address until the lease: status() is LINK_NOIP and isconnected() False meanwhile.
        netif_set_addr(netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
    }
    return mp_const_none;
}

// Each keyword on its own: MicroPython's helper reads the key being set through args[0].
static mp_obj_t lan_ipconfig_locked(struct netif *netif, size_t n_args, const mp_obj_t *args, mp_map_t *kw) {
    if (kw->used == 0) {
        return mod_network_nic_ipconfig(netif, n_args, args, kw);
    }
    for (size_t i = 0; i < kw->alloc; i++) {
        if (!mp_map_slot_is_filled(kw, i)) {
            continue;
        }
        mp_obj_t pair[2] = { kw->table[i].key, kw->table[i].value };
        mp_map_t one;
        mp_map_init_fixed_table(&one, 1, pair);
        if (mp_obj_str_get_qstr(pair[0]) == MP_QSTR_dhcp4 && mp_obj_is_true(pair[1])) {
            lan_dhcp_start_locked(netif, 0, NULL, NULL);
        }
        mod_network_nic_ipconfig(netif, 0, pair, &one);
    }
    return mp_const_none;
}

static mp_obj_t network_lan_ipconfig(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    network_lan_check_active();
    return network_lan_call_locked(lan_ipconfig_locked, n_args - 1, args + 1, kwargs);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(network_lan_ipconfig_obj, 1, network_lan_ipconfig);

// ifconfig() / ifconfig((ip, mask, gw, dns)) / ifconfig('dhcp'), which waits for the lease.
static mp_obj_t network_lan_ifconfig(size_t n_args, const mp_obj_t *args) {
    network_lan_check_active();
    if (n_args == 2 && mp_obj_is_str(args[1])) {
        if (mp_obj_str_get_qstr(args[1]) != MP_QSTR_dhcp) {
            mp_raise_ValueError(MP_ERROR_TEXT("ifconfig takes a 4-tuple or 'dhcp'"));
        }
        mp_obj_t pair[2] = { MP_OBJ_NEW_QSTR(MP_QSTR_dhcp4), mp_const_true };
        mp_map_t one;
        mp_map_init_fixed_table(&one, 1, pair);
        network_lan_call_locked(lan_ipconfig_locked, 0, NULL, &one);
        uint32_t start = mp_hal_ticks_ms();
        while (!dhcp_supplied_address(eth_netif())) {
            if (mp_hal_ticks_ms() - start > LAN_DHCP_TIMEOUT_MS) {
                mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("timeout waiting for a DHCP lease"));
            }
            mp_hal_delay_ms(20);
        }
        return mp_const_none;
    }
    return network_lan_call_locked(lan_ifconfig_locked, n_args - 1, args + 1, NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(network_lan_ifconfig_obj, 1, 2, network_lan_ifconfig);

static mp_obj_t network_lan_config(size_t n_args, const mp_obj_t *args, mp_map_t *kwargs) {
    if (kwargs->used == 0) {
        if (n_args != 2) {
            mp_raise_TypeError(MP_ERROR_TEXT("must query one param"));
        }
        switch (mp_obj_str_get_qstr(args[1])) {
            case MP_QSTR_mac:
                return mp_obj_new_bytes(eth_get_mac(), 6);
            case MP_QSTR_hostname:
                return mp_obj_new_str_from_cstr(mpnetworkport_hostname());
            default:
                mp_raise_ValueError(MP_ERROR_TEXT("unknown config param; use 'mac' or 'hostname'"));
        }
    }
    if (n_args != 1) {
        mp_raise_TypeError(MP_ERROR_TEXT("can't specify pos and kw args"));
    }
    for (size_t i = 0; i < kwargs->alloc; i++) {
        if (!mp_map_slot_is_filled(kwargs, i)) {
            continue;
        }
        mp_obj_t value = kwargs->table[i].value;
        switch (mp_obj_str_get_qstr(kwargs->table[i].key)) {
            case MP_QSTR_mac: {
                mp_buffer_info_t buf;
                mp_get_buffer_raise(value, &buf, MP_BUFFER_READ);
                if (buf.len != 6) {
                    mp_raise_ValueError(MP_ERROR_TEXT("mac must be 6 bytes"));
                }
                if (((const uint8_t *)buf.buf)[0] & 1) {
                    mp_raise_ValueError(MP_ERROR_TEXT("mac must be a unicast address"));
                }
                uint32_t state = mpnetworkport_lock();
                eth_set_mac(buf.buf);
                mpnetworkport_unlock(state);
                break;
            }
            case MP_QSTR_hostname: {
                mp_obj_t arg = value;
                mod_network_hostname(1, &arg);
                break;
            }
            default:
                mp_raise_ValueError(MP_ERROR_TEXT("unknown config param; use 'mac' or 'hostname'"));
        }
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(network_lan_config_obj, 1, network_lan_config);

// irq(handler): handler(lan) is scheduled on every link change and address change;
// irq(None) removes it. Returns the previous handler.
static mp_obj_t network_lan_irq(size_t n_args, const mp_obj_t *args) {
    mp_obj_t old = MP_STATE_PORT(network_lan_irq_handler);
    if (n_args == 2) {
        if (args[1] != mp_const_none && !mp_obj_is_callable(args[1])) {
            mp_raise_TypeError(MP_ERROR_TEXT("handler must be callable or None"));
        }
        MP_STATE_PORT(network_lan_irq_handler) = args[1];
    }
    return old;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(network_lan_irq_obj, 1, 2, network_lan_irq);

static const mp_rom_map_elem_t network_lan_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_active), MP_ROM_PTR(&network_lan_active_obj) },
    { MP_ROM_QSTR(MP_QSTR_isconnected), MP_ROM_PTR(&network_lan_isconnected_obj) },
    { MP_ROM_QSTR(MP_QSTR_status), MP_ROM_PTR(&network_lan_status_obj) },
    { MP_ROM_QSTR(MP_QSTR_ipconfig), MP_ROM_PTR(&network_lan_ipconfig_obj) },
    { MP_ROM_QSTR(MP_QSTR_ifconfig), MP_ROM_PTR(&network_lan_ifconfig_obj) },
    { MP_ROM_QSTR(MP_QSTR_config), MP_ROM_PTR(&network_lan_config_obj) },
    { MP_ROM_QSTR(MP_QSTR_irq), MP_ROM_PTR(&network_lan_irq_obj) },

    { MP_ROM_QSTR(MP_QSTR_LINK_FAIL), MP_ROM_INT(ETH_LINK_FAIL) },
    { MP_ROM_QSTR(MP_QSTR_LINK_DOWN), MP_ROM_INT(ETH_LINK_DOWN) },
    { MP_ROM_QSTR(MP_QSTR_LINK_JOIN), MP_ROM_INT(ETH_LINK_JOIN) },
    { MP_ROM_QSTR(MP_QSTR_LINK_NOIP), MP_ROM_INT(ETH_LINK_NOIP) },
    { MP_ROM_QSTR(MP_QSTR_LINK_UP), MP_ROM_INT(ETH_LINK_UP) },
};
static MP_DEFINE_CONST_DICT(network_lan_locals_dict, network_lan_locals_dict_table);

MP_DEFINE_CONST_OBJ_TYPE(
    network_lan_type,
    MP_QSTR_LAN,
    MP_TYPE_FLAG_NONE,
    make_new, network_lan_make_new,
    print, network_lan_print,
    locals_dict, &network_lan_locals_dict
    );

#endif // MICROPY_PY_NETWORK && MICROPY_PY_LWIP
