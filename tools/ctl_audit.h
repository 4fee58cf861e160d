/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rdmafsctl audit: being written (issue 12). */
#ifndef RDMAFS_CTL_AUDIT_H
#define RDMAFS_CTL_AUDIT_H
#endif
