// SPDX-License-Identifier: GPL-2.0-or-later
/* rdmafsctl metrics: being written (issue 12); a usage check only. */
#include "ctl.h"

const char ctl_metrics_help[] = "  -h, --help   show this help\n";

int ctl_cmd_metrics(const struct subcommand *cmd, int argc, char **argv)
{
	struct ctl_args a;
	int ret = ctl_parse_args(cmd, argc, argv, 0, 1, 1, "one MOUNT", &a);

	return ret >= 0 ? ret : CTL_FAILED;
}
