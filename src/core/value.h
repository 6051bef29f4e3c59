/*
 * value.h — the internal side of mc_value: writing a value tree into a wire
 * buffer and reading one back, for core code (futures, channels, the pool)
 * that frames values inside larger messages. The public API is manycore.h.
 */
#ifndef MC_VALUE_H
#define MC_VALUE_H

#include "manycore.h"
#include "wire.h"

/* Appends v as one wire value (no version byte) to b. MC_EENCODE when v nests
 * deeper than MC_WIRE_MAX_DEPTH containers, MC_ENOMEM; on failure b->len is
 * back where it was. */
int mc_value_write(mc_buf *b, const mc_value *v);

/* Whether v sits in a container (which then owns it). */
int mc_value_is_owned(const mc_value *v);

/* Reads one wire value at r into a new tree *out that the caller frees with
 * mc_value_free. Nesting counts from r->depth. MC_EWIRE (detail in mc_errmsg)
 * or MC_ENOMEM; on failure *out is untouched and r is where it was. */
int mc_value_read(mc_wire_reader *r, mc_value **out);

/* A whole message (version byte, value, handle table) from/into a tree. */
int mc_value_to_msg(const mc_value *v, mc_msg *out);
int mc_value_from_msg(const mc_msg *msg, mc_value **out);

#endif /* MC_VALUE_H */
