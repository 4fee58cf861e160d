// SPDX-License-Identifier: GPL-2.0-or-later
/* rdmafsctl audit: being written (issue 12); for now a usage check only. */
#include "ctl.h"
#include "ctl_audit.h"

const char ctl_audit_help[] = "  -h, --help   show this help\n";

int ctl_cmd_audit(const struct subcommand *cmd, int argc, char **argv)
{
	struct ctl_args a;
	int ret = ctl_parse_args(cmd, argc, argv, CTL_OPT_JSON, 1, 1,
				 "one PATH", &a);

	return ret >= 0 ? ret : CTL_FAILED;
}
