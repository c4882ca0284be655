// SPDX-License-Identifier: GPL-2.0
/*
 * nfring: netfilter's queue handler, delivering queued packets to userspace
 * through shared-memory rings instead of nfnetlink_queue's netlink socket.
 *
 * This file holds the module's lifetime: the NFQUEUE guard, the queue
 * handler registration, the per-netns state and its /proc/net/nfring file,
 * and the misc device.
 *
 * Until a worker can bind a queue, every queued packet finds no listener and
 * is treated exactly as nfnetlink_queue treats a queue nobody listens on:
 * accepted when the rule says bypass, dropped otherwise.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_queue.h>
#include <net/netns/generic.h>

#include "nfring.h"

/* Per network namespace: queue numbers, like NFQUEUE's, are per netns. */
struct nfring_net {
	/* Packets queued to a queue number no worker has bound. */
	atomic64_t no_worker;
};

static unsigned int nfring_net_id __read_mostly;

static struct nfring_net *nfring_pernet(struct net *net)
{
	return net_generic(net, nfring_net_id);
}

/*
 * Only one queue handler can exist in the kernel and nf_register_queue_handler
 * WARNs on a second one, so nfring and nfnetlink_queue must never both be
 * active.  Owning the nfnetlink subsystem id that nfnetlink_queue registers
 * is the lock: while nfring holds it, nfnetlink_queue's init fails with
 * -EBUSY (it registers the subsystem before the handler), and NFQUEUE
 * messages from programs get -EINVAL (no callbacks) instead of autoloading
 * it.  If nfnetlink_queue is already loaded, our registration fails first.
 */
static const struct nfnetlink_subsystem nfring_nfqueue_guard = {
	.name		= "nfring (NFQUEUE is served by nfring)",
	.subsys_id	= NFNL_SUBSYS_QUEUE,
	.cb_count	= 0,
	.owner		= THIS_MODULE,
};

/* Softirq (BH off); may not sleep or allocate with GFP_KERNEL. */
static int nfring_outfn(struct nf_queue_entry *entry, unsigned int queuenum)
{
	struct nfring_net *nn = nfring_pernet(entry->state.net);

	/*
	 * No worker can bind yet.  -ESRCH is the "nobody listens" error: with
	 * the rule's bypass flag nf_queue() accepts the packet, otherwise it
	 * frees the entry and the packet is dropped, as with NFQUEUE.
	 */
	atomic64_inc(&nn->no_worker);
	return -ESRCH;
}

static void nfring_hook_drop(struct net *net)
{
	/* Nothing is ever held yet, so there is nothing to release. */
}

static const struct nf_queue_handler nfring_queue_handler = {
	.outfn		= nfring_outfn,
	.nf_hook_drop	= nfring_hook_drop,
};

static int nfring_proc_show(struct seq_file *m, void *v)
{
	struct nfring_net *nn = nfring_pernet(seq_file_single_net(m));

	seq_printf(m, "abi_version %u\n", NFRING_ABI_VERSION);
	seq_printf(m, "features 0x%llx\n",
		   (unsigned long long)NFRING_FEAT_ALL);
	seq_printf(m, "queue_handler registered\n");
	seq_printf(m, "no_worker %lld\n",
		   (long long)atomic64_read(&nn->no_worker));
	return 0;
}

static int __net_init nfring_net_init(struct net *net)
{
	struct nfring_net *nn = nfring_pernet(net);

	atomic64_set(&nn->no_worker, 0);
	if (!proc_create_net_single("nfring", 0444, net->proc_net,
				    nfring_proc_show, NULL))
		return -ENOMEM;
	return 0;
}

static void __net_exit nfring_net_exit(struct net *net)
{
	remove_proc_entry("nfring", net->proc_net);
}

static struct pernet_operations nfring_net_ops = {
	.init	= nfring_net_init,
	.exit	= nfring_net_exit,
	.id	= &nfring_net_id,
	.size	= sizeof(struct nfring_net),
};

static int nfring_dev_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	return 0;
}

static long nfring_ioctl_info(struct nfring_info __user *uinfo)
{
	struct nfring_info info;
	u32 usize;

	if (get_user(usize, &uinfo->size))
		return -EFAULT;
	/* Accept the first version's size and anything larger. */
	if (usize < sizeof(info))
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.abi_version = NFRING_ABI_VERSION;
	info.features = NFRING_FEAT_ALL;
	info.max_queue_num = U16_MAX;
	if (copy_to_user(uinfo, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long nfring_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	switch (cmd) {
	case NFRING_IOC_INFO:
		return nfring_ioctl_info((struct nfring_info __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations nfring_fops = {
	.owner		= THIS_MODULE,
	.open		= nfring_dev_open,
	.unlocked_ioctl	= nfring_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice nfring_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "nfring",
	.fops	= &nfring_fops,
	.mode	= 0600,
};

static int __init nfring_init(void)
{
	int err;

	err = nfnetlink_subsys_register(&nfring_nfqueue_guard);
	if (err == -EBUSY) {
		pr_err("nfnetlink_queue is loaded; only one netfilter queue handler can exist. Run 'rmmod nfnetlink_queue' first.\n");
		return err;
	}
	if (err)
		return err;

	err = register_pernet_subsys(&nfring_net_ops);
	if (err)
		goto err_unregister_guard;

	err = misc_register(&nfring_miscdev);
	if (err)
		goto err_unregister_pernet;

	nf_register_queue_handler(&nfring_queue_handler);
	pr_info("registered as netfilter queue handler (abi %u)\n",
		NFRING_ABI_VERSION);
	return 0;

err_unregister_pernet:
	unregister_pernet_subsys(&nfring_net_ops);
err_unregister_guard:
	nfnetlink_subsys_unregister(&nfring_nfqueue_guard);
	return err;
}

static void __exit nfring_exit(void)
{
	nf_unregister_queue_handler();
	/* outfn may still run on another CPU until readers of the handler go. */
	synchronize_rcu();
	misc_deregister(&nfring_miscdev);
	unregister_pernet_subsys(&nfring_net_ops);
	nfnetlink_subsys_unregister(&nfring_nfqueue_guard);
	pr_info("unregistered\n");
}

module_init(nfring_init);
module_exit(nfring_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("netfilter queue handler delivering packets through mmap'd rings");
MODULE_VERSION("0.1");
