/* The interrupt-line log of one device-model request (ioreq.h). */
#include <string.h>

#include <vmxlab/ioreq.h>

void dm_irq_log_reset(struct dm_irq_log *l)
{
	memset(l, 0, sizeof(*l));
}

void dm_irq_log_add(struct dm_irq_log *l, unsigned line, bool level)
{
	uint16_t bit = (uint16_t)(1u << (line & 15));

	if (level && !(l->level & bit))
		l->rose |= bit;
	l->touched |= bit;
	l->level = level ? l->level | bit : l->level & ~bit;
	if (l->n < DM_MAX_IRQ_EVENTS)
		l->ev[l->n++] = (struct dm_irq_event){ (uint16_t)line, level };
	else
		l->overflow = true;
}

void dm_irq_log_finish(struct dm_irq_log *l)
{
	if (!l->overflow)
		return;
	l->n = 0;
	for (unsigned line = 0; line < 16; line++) {
		uint16_t bit = (uint16_t)(1u << line);
		if (!(l->touched & bit))
			continue;
		if (l->rose & bit)
			l->ev[l->n++] = (struct dm_irq_event){ (uint16_t)line, 1 };
		if (!(l->level & bit) || !(l->rose & bit))
			l->ev[l->n++] = (struct dm_irq_event){ (uint16_t)line, (l->level & bit) != 0 };
	}
}
