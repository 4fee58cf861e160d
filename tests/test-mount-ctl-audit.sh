#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Being written (issue 12): skips for now.
exit 77
