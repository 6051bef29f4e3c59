/*
 * channel.h — the message-level side of channels, for the Python bridge,
 * which sends and receives messages already encoded in the wire format
 * (its own object converter writes them) rather than mc_value trees. The
 * public, value-level API is in manycore.h; both meet in channel.c.
 *
 * Every function here validates its handle (MC_EINVAL, detail in
 * mc_errmsg, for NULL or foreign pointers) and may be called from any
 * thread. Timeouts are in milliseconds: negative waits for ever, 0 tries
 * once. The caller keeps a reference to each channel for the whole call.
 * Blocking waits run between mc_block_begin() and mc_block_end(), so a GIL
 * the caller holds is released while it sleeps.
 */
#ifndef MC_CHANNEL_H
#define MC_CHANNEL_H

#include <stddef.h>

#include "shared.h"
#include "wire.h"

/* Queues *msg, waiting while the channel is full. On success the channel
 * owns the bytes and handle references and *msg is reset to empty; on
 * failure (MC_ECLOSED, MC_ETIMEDOUT, MC_ENOMEM, MC_EINVAL) *msg is left
 * untouched and the caller still owns it (mc_msg_clear it). */
int mc_channel_send_msg(mc_shared *ch, mc_msg *msg, long timeout_ms);

/* Takes the oldest message into *out (the caller mc_msg_clear's it),
 * waiting while the channel is empty. MC_ECLOSED once the channel is closed
 * and drained, MC_ETIMEDOUT if it stayed empty; *out is untouched on
 * failure. */
int mc_channel_recv_msg(mc_shared *ch, mc_msg *out, long timeout_ms);

/* Takes a message from whichever of the n channels has one first; *index
 * says which. MC_ECLOSED only when every channel is closed and drained,
 * MC_ETIMEDOUT when none had a message in time, MC_EINVAL when chs is NULL,
 * n is 0 or any entry is not a channel. A channel may appear more than
 * once. */
int mc_channel_select_msg(mc_shared *const *chs, size_t n, long timeout_ms, size_t *index,
                          mc_msg *out);

/* The capacity given to mc_channel_new; 0 for a non-channel. */
size_t mc_channel_capacity(const mc_shared *ch);

/* 1 once mc_channel_close has been called, 0 before; MC_EINVAL for a
 * non-channel. */
int mc_channel_is_closed(const mc_shared *ch);

#endif /* MC_CHANNEL_H */
