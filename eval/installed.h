/* Files an installed xbar reads from its prefix.
 *
 * The backend finds presets in $XBAR_ARCH_DIR and the source tree
 * (XBAR_SOURCE_DIR/backend/arch, see backend/arch.h).  An installed binary
 * or libxbar.so also has its own copy under <prefix>/share/xbar/arch:
 * xb_arch_open looks there, in this order:
 *   1. $XBAR_ARCH_DIR/<name>.json
 *   2. <dir of the running xbar or libxbar.so>/../share/xbar/arch (and
 *      ../../share for a multiarch libdir): the tree it was installed into,
 *      wherever that was moved
 *   3. the source tree (in-tree runs: a build directory has no ../share)
 *   4. XBAR_INSTALL_ARCH_DIR, the configured <prefix>/share/xbar/arch
 * A spec that is a path (contains '/' or ends in .json) is read as it is. */
#ifndef XBAR_INSTALLED_H
#define XBAR_INSTALLED_H

#include "backend/arch.h"

/* xb_arch_load with the installed presets in the search. */
xb_status xb_arch_open(xb_arch *a, const char *spec, xb_ctx *ctx);

#endif
