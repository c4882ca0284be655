// SPDX-License-Identifier: GPL-2.0
/*
 * nfring: netfilter's queue handler, delivering queued packets to userspace
 * through shared-memory rings instead of nfnetlink_queue's netlink socket.
 *
 * This file holds the module's lifetime: the NFQUEUE guard, the queue
 * handler registration, the per-netns state and its /proc/net/nfring file,
 * the device notifier, and the misc device with its file operations.  The
 * queues themselves are in nfring_queue.c.
 *
 * A queue number no file has bound is treated exactly as nfnetlink_queue
 * treats a queue nobody listens on: accepted when the rule says bypass,
 * dropped otherwise.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_queue.h>
#include <net/netns/generic.h>

#include "nfring_internal.h"

unsigned int nfring_net_id __read_mostly;
struct workqueue_struct *nfring_wq __read_mostly;

struct nfring_net *nfring_pernet(struct net *net)
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

static const struct nf_queue_handler nfring_queue_handler = {
	.outfn		= nfring_outfn,
	.nf_hook_drop	= nfring_hook_drop,
};

static int nfring_netdev_event(struct notifier_block *nb, unsigned long event,
			       void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	/* Queued packets hold references on their devices. */
	if (event == NETDEV_DOWN)
		nfring_dev_down(dev_net(dev), dev->ifindex);
	return NOTIFY_DONE;
}

static struct notifier_block nfring_netdev_notifier = {
	.notifier_call = nfring_netdev_event,
};

/* What this build offers: NFRING_FEAT_ALL less what its config lacks. */
static u64 nfring_features(void)
{
	u64 f = NFRING_FEAT_ALL;

	if (!nfring_ct_bypass_supported())
		f &= ~NFRING_FEAT_CT_BYPASS;
	return f;
}

static void nfring_proc_queue(struct seq_file *m, struct nfring_queue *q)
{
	/* PIDs as the reader's procfs (its pid namespace) numbers them. */
	struct pid_namespace *ns = proc_pid_ns(file_inode(m->file)->i_sb);
	struct nfring_stats st;

	/* A queue being unbound is on its way out; its number is free. */
	if (READ_ONCE(q->dead))
		return;
	nfring_queue_stats(q, &st);
	seq_printf(m,
		   "%5u %7d %6u %6u %5s %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu %9llu %s %9llu %9llu %9llu %9llu %9llu\n",
		   q->queue_num, pid_nr_ns(q->pid, ns), q->entries, q->copy_range,
		   q->flags & NFRING_BIND_FAIL_OPEN ? "open" : "closed",
		   st.in_flight, st.enqueued, st.accepted, st.dropped,
		   st.repeated, st.marked, st.mangled, st.ring_full,
		   st.fail_open, st.invalid, st.flushed, st.mangle_failed,
		   st.unsupported, st.wakeups, st.kicks,
		   q->default_verdict == NFRING_ACCEPT ? "accept" : "drop",
		   st.normalize_failed, st.bypass_flows, st.bypass_no_ct,
		   st.gso_segmented, st.gso_failed);
}

/*
 * /proc/net/nfring, per network namespace: the module's state, then one
 * line per bound queue (counters as in struct nfring_stats).
 */
static int nfring_proc_show(struct seq_file *m, void *v)
{
	struct nfring_net *nn = nfring_pernet(seq_file_single_net(m));
	struct nfring_queue *q;
	int b;

	seq_printf(m, "abi_version %u\n", NFRING_ABI_VERSION);
	seq_printf(m, "features 0x%llx\n",
		   (unsigned long long)nfring_features());
	seq_puts(m, "queue_handler registered\n");
	seq_printf(m, "no_worker %lld\n",
		   (long long)atomic64_read(&nn->no_worker));
	seq_puts(m, "queue     pid   ring   copy  fail in_flight  enqueued  accepted   dropped  repeated    marked   mangled ring_full fail_open   invalid   flushed mangle_failed unsupported wakeups kicks default_verdict normalize_failed bypass_flows bypass_no_ct gso_segmented gso_failed\n");
	rcu_read_lock();
	for (b = 0; b < NFRING_QUEUE_BUCKETS; b++)
		hlist_for_each_entry_rcu(q, &nn->queues[b], node)
			nfring_proc_queue(m, q);
	rcu_read_unlock();
	return 0;
}

static int __net_init nfring_net_init(struct net *net)
{
	struct nfring_net *nn = nfring_pernet(net);
	int b;

	spin_lock_init(&nn->lock);
	for (b = 0; b < NFRING_QUEUE_BUCKETS; b++)
		INIT_HLIST_HEAD(&nn->queues[b]);
	atomic64_set(&nn->no_worker, 0);
	if (!proc_create_net_single("nfring", 0444, net->proc_net,
				    nfring_proc_show, NULL))
		return -ENOMEM;
	return 0;
}

static void __net_exit nfring_net_exit(struct net *net)
{
	struct nfring_net *nn = nfring_pernet(net);
	int b;

	remove_proc_entry("nfring", net->proc_net);
	/* Bound queues hold a reference on their netns. */
	for (b = 0; b < NFRING_QUEUE_BUCKETS; b++)
		WARN_ON_ONCE(!hlist_empty(&nn->queues[b]));
}

static struct pernet_operations nfring_net_ops = {
	.init	= nfring_net_init,
	.exit	= nfring_net_exit,
	.id	= &nfring_net_id,
	.size	= sizeof(struct nfring_net),
};

/* One per open file of /dev/nfring. */
struct nfring_file {
	/*
	 * Serialises binds.  Never taken under mmap_lock (mmap reads q with
	 * acquire instead), since bind faults on user memory while holding it.
	 */
	struct mutex		lock;
	struct nfring_queue	*q;	/* set once by bind, then constant */
	/*
	 * The netns the opener had CAP_NET_ADMIN in; binds happen there even
	 * if the file is passed on or its holder changes namespace.
	 */
	struct net		*net;
};

static struct nfring_queue *nfring_file_queue(struct file *file)
{
	struct nfring_file *nf = file->private_data;

	/* Pairs with the release in nfring_ioctl_bind: q is fully set up. */
	return smp_load_acquire(&nf->q);
}

static int nfring_dev_open(struct inode *inode, struct file *file)
{
	struct nfring_file *nf;

	struct net *net = current->nsproxy->net_ns;

	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;
	nf = kzalloc(sizeof(*nf), GFP_KERNEL_ACCOUNT);
	if (!nf)
		return -ENOMEM;
	mutex_init(&nf->lock);
	nf->net = get_net(net);
	file->private_data = nf;
	/* No operation of ours sleeps waiting for I/O (see write_iter). */
	file->f_mode |= FMODE_NOWAIT;
	return 0;
}

static int nfring_dev_release(struct inode *inode, struct file *file)
{
	struct nfring_file *nf = file->private_data;

	if (nf->q)
		nfring_queue_unbind(nf->q);
	put_net(nf->net);
	kfree(nf);
	return 0;
}

/*
 * INFO and STATS fill at most the caller's .size bytes (an older, smaller
 * struct gets its prefix) and write back the size filled.  Only a size too
 * small to hold .size itself is refused.
 */
static int nfring_out_size(const __u32 __user *usize_p, size_t ksize,
			   u32 *filled)
{
	u32 usize;

	if (get_user(usize, usize_p))
		return -EFAULT;
	if (usize < sizeof(__u32))
		return -EINVAL;
	*filled = min_t(u32, usize, ksize);
	return 0;
}

static long nfring_ioctl_info(struct nfring_info __user *uinfo)
{
	struct nfring_info info;
	u32 filled;
	int err;

	err = nfring_out_size(&uinfo->size, sizeof(info), &filled);
	if (err)
		return err;

	memset(&info, 0, sizeof(info));
	info.size = filled;
	info.abi_version = NFRING_ABI_VERSION;
	info.features = nfring_features();
	info.max_queue_num = U16_MAX;
	info.max_ring_entries = NFRING_MAX_RING_ENTRIES;
	info.max_copy_range = NFRING_MAX_COPY_RANGE;
	if (copy_to_user(uinfo, &info, filled))
		return -EFAULT;
	return 0;
}

/*
 * BIND takes any struct from NFRING_BIND_SIZE_V1 up: fields past the
 * caller's size read as zero, and only its size is written back, never
 * more than the command number says the caller's struct holds.
 */
static long nfring_ioctl_bind(struct file *file,
			      struct nfring_bind __user *ubind, size_t cmd_size)
{
	struct nfring_file *nf = file->private_data;
	struct nfring_queue *q;
	struct nfring_bind p;
	long err = 0;
	u32 usize, known;

	if (get_user(usize, &ubind->size))
		return -EFAULT;
	if (usize < NFRING_BIND_SIZE_V1)
		return -EINVAL;
	/* As openat2 and clone3: no struct will ever be this large. */
	if (usize > PAGE_SIZE)
		return -E2BIG;
	known = min_t(u32, min_t(u32, usize, sizeof(p)), cmd_size);
	memset(&p, 0, sizeof(p));
	if (copy_from_user(&p, ubind, known))
		return -EFAULT;
	/* Metadata needs somewhere to say where it is. */
	if ((p.flags & NFRING_BIND_METADATA) &&
	    known < offsetofend(struct nfring_bind, meta_off))
		return -EINVAL;
	/* A newer, larger struct may only carry zeroes past what we know. */
	if (usize > sizeof(p)) {
		err = check_zeroed_user((u8 __user *)ubind + sizeof(p),
					usize - sizeof(p));
		if (err <= 0)
			return err ? err : -E2BIG;
	}

	mutex_lock(&nf->lock);
	if (nf->q) {
		err = -EALREADY;
		goto out;
	}
	q = nfring_queue_bind(nf->net, &p);
	if (IS_ERR(q)) {
		err = PTR_ERR(q);
		goto out;
	}
	p.size = known;
	if (copy_to_user(ubind, &p, known)) {
		nfring_queue_unbind(q);
		err = -EFAULT;
		goto out;
	}
	/* Pairs with nfring_file_queue(): readers see a set-up queue. */
	smp_store_release(&nf->q, q);
	err = 0;
out:
	mutex_unlock(&nf->lock);
	return err;
}

static long nfring_ioctl_stats(struct file *file,
			       struct nfring_stats __user *ustats,
			       size_t cmd_size)
{
	struct nfring_queue *q = nfring_file_queue(file);
	struct nfring_stats st;
	u32 filled;
	int err;

	if (!q)
		return -ENXIO;
	/* Never more than the command number says the caller's struct has. */
	if (cmd_size < sizeof(__u32))
		return -EINVAL;
	err = nfring_out_size(&ustats->size, min(sizeof(st), cmd_size),
			      &filled);
	if (err)
		return err;
	nfring_queue_stats(q, &st);
	st.size = filled;
	if (copy_to_user(ustats, &st, filled))
		return -EFAULT;
	return 0;
}

static long nfring_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct nfring_queue *q;

	switch (cmd) {
	case NFRING_IOC_INFO:
		return nfring_ioctl_info(uarg);
	case NFRING_IOC_KICK:
		q = nfring_file_queue(file);
		if (!q)
			return -ENXIO;
		nfring_queue_kick(q);
		return 0;
	default:
		/*
		 * STATS under whatever struct size its number encodes
		 * (NFRING_IOC_STATS, _V1, or a future larger one): .size
		 * decides what is filled.
		 */
		if (_IOC_TYPE(cmd) != NFRING_IOC_MAGIC ||
		    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
			return -ENOTTY;
		if (_IOC_NR(cmd) == _IOC_NR(NFRING_IOC_STATS))
			return nfring_ioctl_stats(file, uarg, _IOC_SIZE(cmd));
		/* Likewise BIND (NFRING_IOC_BIND_V1 and the current one). */
		if (_IOC_NR(cmd) == _IOC_NR(NFRING_IOC_BIND) &&
		    _IOC_SIZE(cmd) >= NFRING_BIND_SIZE_V1)
			return nfring_ioctl_bind(file, uarg, _IOC_SIZE(cmd));
		return -ENOTTY;
	}
}

/*
 * write(2) of anything is a kick, so that an io_uring worker can kick with
 * IORING_OP_WRITE in the same io_uring_enter that waits.  Data is ignored.
 * It never blocks, so the file is FMODE_NOWAIT and io_uring issues it
 * inline instead of handing it to an io-wq thread.
 */
static ssize_t nfring_dev_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct nfring_queue *q = nfring_file_queue(iocb->ki_filp);
	size_t len = iov_iter_count(from);

	if (!q)
		return -ENXIO;
	nfring_queue_kick(q);
	iov_iter_advance(from, len);
	return len;
}

/* Called with mmap_lock held: must not take nf->lock (see there). */
static int nfring_dev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct nfring_queue *q = nfring_file_queue(file);

	return q ? nfring_queue_mmap(q, vma) : -ENXIO;
}

static __poll_t nfring_dev_poll(struct file *file, poll_table *wait)
{
	struct nfring_queue *q = nfring_file_queue(file);

	if (!q)
		return EPOLLERR;
	return nfring_queue_poll(q, file, wait);
}

static const struct file_operations nfring_fops = {
	.owner		= THIS_MODULE,
	.open		= nfring_dev_open,
	.release	= nfring_dev_release,
	.unlocked_ioctl	= nfring_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= nfring_dev_mmap,
	.write_iter	= nfring_dev_write_iter,
	.poll		= nfring_dev_poll,
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

	/* Reinjection runs here, outside the softirq that queued. */
	nfring_wq = alloc_workqueue("nfring", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!nfring_wq) {
		err = -ENOMEM;
		goto err_unregister_guard;
	}

	err = register_pernet_subsys(&nfring_net_ops);
	if (err)
		goto err_destroy_wq;

	err = register_netdevice_notifier(&nfring_netdev_notifier);
	if (err)
		goto err_unregister_pernet;

	err = misc_register(&nfring_miscdev);
	if (err)
		goto err_unregister_notifier;

	nf_register_queue_handler(&nfring_queue_handler);
	pr_info("registered as netfilter queue handler (abi %u)\n",
		NFRING_ABI_VERSION);
	return 0;

err_unregister_notifier:
	unregister_netdevice_notifier(&nfring_netdev_notifier);
err_unregister_pernet:
	unregister_pernet_subsys(&nfring_net_ops);
err_destroy_wq:
	destroy_workqueue(nfring_wq);
err_unregister_guard:
	nfnetlink_subsys_unregister(&nfring_nfqueue_guard);
	return err;
}

/*
 * No queue can be bound here: each open file holds a module reference and
 * releasing it unbinds (and gives in-flight packets their verdict).
 */
static void __exit nfring_exit(void)
{
	nf_unregister_queue_handler();
	/* outfn may still run on another CPU until its RCU readers finish. */
	synchronize_rcu();
	misc_deregister(&nfring_miscdev);
	unregister_netdevice_notifier(&nfring_netdev_notifier);
	unregister_pernet_subsys(&nfring_net_ops);
	destroy_workqueue(nfring_wq);
	nfnetlink_subsys_unregister(&nfring_nfqueue_guard);
	pr_info("unregistered\n");
}

module_init(nfring_init);
module_exit(nfring_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("netfilter queue handler delivering packets through mmap'd rings");
MODULE_VERSION("0.1");
