// Tether's small C layer over Cyclone DDS: a raw-CDR sertype so that every byte of every message
// is encoded and decoded in Swift (the approach rmw_cyclonedds takes), and a handful of entity
// functions. Entities are Cyclone's int32 handles; negative values are DDS return codes.
#ifndef TETHER_DDS_H
#define TETHER_DDS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Creates domain `domain` from an XML configuration (NULL: Cyclone's defaults / CYCLONEDDS_URI)
/// and a participant on it. Returns the participant or a negative return code.
int32_t tdds_participant_create(uint32_t domain, const char *config_xml);

/// Creates a keyless topic whose samples are raw CDR (encapsulation header included). When
/// `sertype` is not NULL it receives the topic's sertype (what tdds_sample_new needs; it lives as
/// long as the topic).
int32_t tdds_topic_create(int32_t participant, const char *topic_name, const char *type_name, const void **sertype);

/// QoS: reliable (1) or best effort (0), keep-last `depth` (0: keep all), volatile durability, XCDR1.
/* flags: bit 0 reliable (else best effort), bit 1 transient local (else volatile), bit 2 batched
   writes (a writer packs samples into packets until one is full or tdds_write_flush is called). */
int32_t tdds_writer_create(int32_t participant, int32_t topic, int flags, int32_t depth);
int32_t tdds_reader_create(int32_t participant, int32_t topic, int flags, int32_t depth);

/// Writes one serialized sample (4-byte encapsulation header + payload).
int32_t tdds_write(int32_t writer, const uint8_t *data, size_t size);

/// Takes one valid sample (invalid samples, e.g. disposals, are skipped). Returns 1 with
/// `*data` malloc'd (free with tdds_free) and `*size` set, 0 when none, or a negative code.
/// `*source_timestamp` receives the writer's timestamp in ns since the epoch.
int32_t tdds_take(int32_t reader, uint8_t **data, size_t *size, int64_t *source_timestamp);
void tdds_free(void *p);

/// Waits until `reader` has data or `timeout_ns` passes: 1 data, 0 timeout, negative error.
int32_t tdds_wait_for_data(int32_t reader, int64_t timeout_ns);

/// A waitset with a read condition on `reader`, created once (for a fast wait path).
int32_t tdds_waitset_create(int32_t reader);
/// Waits on a waitset from tdds_waitset_create: 1 triggered, 0 timeout, negative error.
int32_t tdds_waitset_wait(int32_t waitset, int64_t timeout_ns);

// The zero-copy paths. A sample is a Cyclone serdata holding the raw CDR bytes (header included):
// a writer fills one in place and hands it to DDS (no intermediate copy), a reader borrows the
// bytes DDS received and releases them when decoded.

/// A new sample of `size` bytes for `sertype`; `*data` receives its buffer to fill. NULL when out of memory.
void *tdds_sample_new(const void *sertype, size_t size, uint8_t **data);
/// Writes a sample from tdds_sample_new and releases it (also on error).
int32_t tdds_write_sample(int32_t writer, void *sample);
/// Sends what a batching writer holds.
int32_t tdds_write_flush(int32_t writer);
/// Releases a sample (one never written, or one borrowed with tdds_take_borrowed).
void tdds_sample_release(void *sample);

/// Takes one valid sample without copying its bytes: 1 with `*sample` (release it with
/// tdds_sample_release), `*data`, `*size` and the writer's timestamp (ns since the epoch) set,
/// 0 when none, or a negative code. Invalid samples (disposals, unregistrations) are skipped.
int32_t tdds_take_borrowed(int32_t reader, void **sample, const uint8_t **data, size_t *size, int64_t *source_timestamp);
/// Takes up to `max` (at most 64) samples in one call, borrowing each one's bytes as
/// tdds_take_borrowed does (release each with tdds_sample_release). Returns the number of valid
/// samples in the low 16 bits, with bit 16 set when the reader returned a full batch (more may
/// be waiting), or a negative DDS error.
int32_t tdds_take_borrowed_batch(int32_t reader, int32_t max, void **samples, const uint8_t **data, size_t *sizes, int64_t *source_timestamps);

/// Calls `callback(reader, context)` on Cyclone's receive thread whenever `reader` has new data
/// (a DDS listener: no thread of ours wakes in between). NULL clears it, and returns once no
/// call is in progress (never clear it from inside the callback).
int32_t tdds_reader_set_callback(int32_t reader, void (*callback)(int32_t reader, void *context), void *context);

/// Number of matched readers (for a writer) or writers (for a reader), or a negative code.
int32_t tdds_matched(int32_t entity, int is_writer);

/// Deletes an entity and its children.
int32_t tdds_delete(int32_t entity);

/// Cyclone's text for a return code.
const char *tdds_error_text(int32_t code);

#ifdef __cplusplus
}
#endif
#endif
