/*
 * The vgem module, as libkmod sees it. IGT loads and unloads modules with
 * libkmod (igt_kmod_load, igt_kmod_unload); for the module "vgem" the calls
 * go to the server, which models the module's references as the kernel
 * counts them (every open drm file and every live dma-buf of the device
 * holds one; a mapping holds its file): unloading a module in use answers
 * EAGAIN (delete_module's EWOULDBLOCK), unloaded the device is gone (its
 * nodes, sysfs and debugfs with it) until it is loaded again. Other modules
 * go to the real libkmod. The shim declares libkmod's types opaque and finds
 * its functions with dlsym, so it needs no libkmod at build time.
 */
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

struct kmod_module;
struct kmod_list;

#define REAL(ret, name, args)                                                                                  \
	static ret(*real_##name) args;                                                                         \
	if (!real_##name)                                                                                      \
		real_##name = (ret(*) args)dlsym(RTLD_NEXT, #name);

#define MODULE_STATE 0
#define MODULE_LOAD 1
#define MODULE_UNLOAD 2
#define KMOD_MODULE_LIVE 1
#define KMOD_PROBE_FAIL_ON_LOADED 0x20

static bool is_vgem(const struct kmod_module *mod)
{
	REAL(const char *, kmod_module_get_name, (const struct kmod_module *));
	const char *name = real_kmod_module_get_name ? real_kmod_module_get_name(mod) : NULL;
	return shim_active && name && strcmp(name, "vgem") == 0;
}

/* A Module request: its errno (negative) or, for the state, 1 when loaded. */
static int module_call(int op)
{
	struct buf m;
	buf_init(&m);
	pb_string(&m, 1, "vgem");
	pb_varint(&m, 2, (uint64_t)op);
	struct reply r;
	if (shim_call_simple(SC_MODULE, &m, &r) < 0)
		return -EIO;
	int result = r.err ? -r.err : (r.nvalues ? (int)r.values[0] : 0);
	reply_free(&r);
	return result;
}

EXPORT int kmod_module_get_initstate(const struct kmod_module *mod)
{
	REAL(int, kmod_module_get_initstate, (const struct kmod_module *));
	if (!is_vgem(mod))
		return real_kmod_module_get_initstate(mod);
	int loaded = module_call(MODULE_STATE);
	return loaded == 1 ? KMOD_MODULE_LIVE : -ENOENT;
}

EXPORT struct kmod_list *kmod_module_get_holders(const struct kmod_module *mod)
{
	REAL(struct kmod_list *, kmod_module_get_holders, (const struct kmod_module *));
	if (!is_vgem(mod))
		return real_kmod_module_get_holders(mod);
	return NULL; /* nothing depends on vgem */
}

EXPORT int kmod_module_remove_module(struct kmod_module *mod, unsigned int flags)
{
	REAL(int, kmod_module_remove_module, (struct kmod_module *, unsigned int));
	if (!is_vgem(mod))
		return real_kmod_module_remove_module(mod, flags);
	return module_call(MODULE_UNLOAD);
}

/* Loading a loaded module: EEXIST when the caller asked to fail so, else nothing to do. */
static int load(unsigned int flags)
{
	int r = module_call(MODULE_LOAD);
	if (r == -EEXIST && !(flags & KMOD_PROBE_FAIL_ON_LOADED))
		return 0;
	return r;
}

EXPORT int kmod_module_probe_insert_module(struct kmod_module *mod, unsigned int flags, const char *extra_options,
					   int (*run_install)(struct kmod_module *m, const char *cmdline, void *data),
					   const void *data,
					   void (*print_action)(struct kmod_module *m, bool install, const char *options))
{
	REAL(int, kmod_module_probe_insert_module,
	     (struct kmod_module *, unsigned int, const char *, int (*)(struct kmod_module *, const char *, void *),
	      const void *, void (*)(struct kmod_module *, bool, const char *)));
	if (!is_vgem(mod))
		return real_kmod_module_probe_insert_module(mod, flags, extra_options, run_install, data, print_action);
	return load(flags);
}

EXPORT int kmod_module_insert_module(struct kmod_module *mod, unsigned int flags, const char *options)
{
	REAL(int, kmod_module_insert_module, (struct kmod_module *, unsigned int, const char *));
	if (!is_vgem(mod))
		return real_kmod_module_insert_module(mod, flags, options);
	int r = module_call(MODULE_LOAD);
	return r;
}
