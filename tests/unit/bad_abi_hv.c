/* A handler build from another ABI version: the loader must refuse it. */
#include <vmxlab/hv.h>

__attribute__((visibility("default"))) const struct vmxlab_hv vmxlab_hv = {
	.abi_version = VMXLAB_HV_ABI_VERSION + 1,
	.name = "from-the-future",
};
