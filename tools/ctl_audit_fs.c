// SPDX-License-Identifier: GPL-2.0-or-later
/* rdmafsctl audit: being written (issue 12). */
#include "ctl_audit.h"
