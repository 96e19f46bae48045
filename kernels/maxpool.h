/* What MaxPool (kernels/maxpool.c) exposes beyond its op table entry: for
 * its tests, which of its paths a prepared node takes. */
#ifndef XBAR_MAXPOOL_H
#define XBAR_MAXPOOL_H

#include <stdbool.h>

#include "runtime/ir.h"

/* The prepared MaxPool node runs the u8 2x2/2 pool as whole 64-byte
 * vectors (AVX-512 VBMI, chosen at prepare from the CPU). */
bool xb_maxpool_u8_vbmi(const xb_node *n);

#endif
