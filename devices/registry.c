/* The device models vmxlab knows, by the names scenarios use. */
#include <string.h>

#include <vmxlab/platform.h>
#include <vmxlab/vga.h>

extern const struct vmx_dev_ops pic_dev_ops, pit_dev_ops, uart_dev_ops, ide_dev_ops;
extern const struct vmx_dev_ops ne2k_dev_ops, rtc_dev_ops, i440fx_dev_ops;

static const struct vmx_dev_ops *const models[] = {
	&pic_dev_ops,
	&pit_dev_ops,
	&uart_dev_ops,
	&ide_dev_ops,
	&vga_dev_ops,
	&ne2k_dev_ops,
	&rtc_dev_ops,
	&i440fx_dev_ops,
};

const char *const vmx_dev_names[] = { "pic", "pit", "uart", "ide", "vga", "ne2k", "rtc", "i440fx", NULL };

const struct vmx_dev_ops *vmx_dev_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (strcmp(models[i]->name, name) == 0)
			return models[i];
	return NULL;
}
