// SPDX-License-Identifier: GPL-2.0
/*
 * A deliberately broken module for the harness's self-test: it WARNs when
 * loaded.  The harness must fail any VM test whose kernel log shows this.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init warn_on_load_init(void)
{
	WARN(1, "nfring harness self-test: deliberate warning on load\n");
	return 0;
}

static void __exit warn_on_load_exit(void)
{
}

module_init(warn_on_load_init);
module_exit(warn_on_load_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nfring VM harness self-test: warns on load");
