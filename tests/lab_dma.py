"""The DMA1/DMA2 register map (RM0090 section 10.5) and the RCC enables, for the qtests
that program DMA streams (test_dma, test_dma_burst)."""

DMA1, DMA2 = 0x40026000, 0x40026400
LISR, HISR, LIFCR, HIFCR = 0x00, 0x04, 0x08, 0x0C
# a stream's registers, from its base (DMA + 0x10 + 0x18 * stream)
CR, NDTR, PAR, M0AR, M1AR, FCR = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14

# SxCR
EN, DMEIE, TEIE, HTIE, TCIE, PFCTRL = 1, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5
P2M, M2P, M2M = 0 << 6, 1 << 6, 2 << 6
CIRC, PINC, MINC, PINCOS, DBM, CT = 1 << 8, 1 << 9, 1 << 10, 1 << 15, 1 << 18, 1 << 19
SIZE = {1: 0, 2: 1, 4: 2}


def psize(n):
    return SIZE[n] << 11


def msize(n):
    return SIZE[n] << 13


def pl(n):
    return n << 16


def pburst(n):
    return n << 21


def mburst(n):
    return n << 23


def chsel(n):
    return n << 25


# SxFCR
DMDIS, FEIE = 1 << 2, 1 << 7
FS_EMPTY, FS_FULL = 4, 5


def fth(n):
    return n


# flags of one stream (LISR positions of stream 0), and where each stream's sit
FE, DME, TE, HT, TC = 1, 4, 8, 16, 32
SHIFT = [0, 6, 16, 22]
IRQ = {DMA1: [11, 12, 13, 14, 15, 16, 17, 47], DMA2: [56, 57, 58, 59, 60, 68, 69, 70]}

RCC = 0x40023800
AHB1ENR, AHB2ENR, APB1ENR, APB2ENR = RCC + 0x30, RCC + 0x34, RCC + 0x40, RCC + 0x44
DMA1EN, DMA2EN = 1 << 21, 1 << 22
CRYPEN_CLK, HASHEN_CLK = 1 << 4, 1 << 5

SRAM = 0x20000000
V1, V2 = "stm324xg-eval", "stm324x9i-eval"
