// See tether_dds.h. Written for Tether against Cyclone DDS 0.10's public sertype/serdata interface.
#include "tether_dds.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dds/dds.h"
#include "dds/ddsi/ddsi_serdata.h"
#include "dds/ddsi/ddsi_sertype.h"
#include "dds/ddsi/q_radmin.h"
#include "dds/ddsrt/heap.h"
#include "dds/ddsrt/md5.h"

// A sample as the application sees it: bytes and their count.
typedef struct raw_sample {
    uint8_t *data;
    size_t size;
} raw_sample;

// A serdata holding one raw CDR message.
typedef struct raw_serdata {
    struct ddsi_serdata c;
    size_t size;
    uint8_t *data;
} raw_serdata;

typedef struct raw_sertype {
    struct ddsi_sertype c;
} raw_sertype;

static raw_serdata *raw_new(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, size_t size) {
    raw_serdata *d = ddsrt_malloc(sizeof *d);
    ddsi_serdata_init(&d->c, type, kind);
    d->size = size;
    d->data = size ? ddsrt_malloc(size) : NULL;
    return d;
}

static bool sd_eqkey(const struct ddsi_serdata *a, const struct ddsi_serdata *b) { (void)a; (void)b; return true; }
static uint32_t sd_get_size(const struct ddsi_serdata *d) { return (uint32_t)((const raw_serdata *)d)->size; }

static struct ddsi_serdata *sd_from_ser(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind,
                                        const struct nn_rdata *fragchain, size_t size) {
    raw_serdata *d = raw_new(type, kind, size);
    uint32_t off = 0;
    for (const struct nn_rdata *f = fragchain; f != NULL; f = f->nextfrag) {
        if (f->maxp1 > off) {
            const unsigned char *payload = NN_RMSG_PAYLOADOFF(f->rmsg, NN_RDATA_PAYLOAD_OFF(f));
            memcpy(d->data + off, payload + off - f->min, f->maxp1 - off);
            off = f->maxp1;
        }
    }
    return &d->c;
}

static struct ddsi_serdata *sd_from_ser_iov(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind,
                                            ddsrt_msg_iovlen_t niov, const ddsrt_iovec_t *iov, size_t size) {
    raw_serdata *d = raw_new(type, kind, size);
    size_t off = 0;
    for (ddsrt_msg_iovlen_t i = 0; i < niov && off < size; i++) {
        size_t n = iov[i].iov_len;
        if (off + n > size) n = size - off;
        memcpy(d->data + off, iov[i].iov_base, n);
        off += n;
    }
    return &d->c;
}

static struct ddsi_serdata *sd_from_keyhash(const struct ddsi_sertype *type, const struct ddsi_keyhash *keyhash) {
    (void)keyhash;  // keyless topics: every key is the same
    return &raw_new(type, SDK_KEY, 0)->c;
}

static struct ddsi_serdata *sd_from_sample(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, const void *sample) {
    const raw_sample *s = sample;
    raw_serdata *d = raw_new(type, kind, kind == SDK_DATA ? s->size : 0);
    if (kind == SDK_DATA && s->size) memcpy(d->data, s->data, s->size);
    return &d->c;
}

static void sd_to_ser(const struct ddsi_serdata *d, size_t off, size_t sz, void *buf) {
    const raw_serdata *r = (const raw_serdata *)d;
    memcpy(buf, r->data + off, sz);
}

static struct ddsi_serdata *sd_to_ser_ref(const struct ddsi_serdata *d, size_t off, size_t sz, ddsrt_iovec_t *ref) {
    const raw_serdata *r = (const raw_serdata *)d;
    ref->iov_base = r->data + off;
    ref->iov_len = (ddsrt_iov_len_t)sz;
    return ddsi_serdata_ref(d);
}

static void sd_to_ser_unref(struct ddsi_serdata *d, const ddsrt_iovec_t *ref) {
    (void)ref;
    ddsi_serdata_unref(d);
}

static bool sd_to_sample(const struct ddsi_serdata *d, void *sample, void **bufptr, void *buflim) {
    (void)bufptr; (void)buflim;
    const raw_serdata *r = (const raw_serdata *)d;
    raw_sample *s = sample;
    s->data = malloc(r->size ? r->size : 1);
    if (!s->data) return false;
    memcpy(s->data, r->data, r->size);
    s->size = r->size;
    return true;
}

static struct ddsi_serdata *sd_to_untyped(const struct ddsi_serdata *d) {
    return &raw_new(d->type, SDK_KEY, 0)->c;
}

static bool sd_untyped_to_sample(const struct ddsi_sertype *type, const struct ddsi_serdata *d, void *sample, void **bufptr, void *buflim) {
    (void)type; (void)d; (void)bufptr; (void)buflim;
    raw_sample *s = sample;
    s->data = NULL;
    s->size = 0;
    return true;
}

static void sd_free(struct ddsi_serdata *d) {
    raw_serdata *r = (raw_serdata *)d;
    ddsrt_free(r->data);
    ddsrt_free(r);
}

static size_t sd_print(const struct ddsi_sertype *type, const struct ddsi_serdata *d, char *buf, size_t size) {
    (void)type;
    return (size_t)snprintf(buf, size, "raw CDR, %zu bytes", ((const raw_serdata *)d)->size);
}

static void sd_get_keyhash(const struct ddsi_serdata *d, struct ddsi_keyhash *buf, bool force_md5) {
    (void)d; (void)force_md5;
    memset(buf, 0, sizeof *buf);
}

static const struct ddsi_serdata_ops raw_serdata_ops = {
    .eqkey = sd_eqkey, .get_size = sd_get_size, .from_ser = sd_from_ser, .from_ser_iov = sd_from_ser_iov,
    .from_keyhash = sd_from_keyhash, .from_sample = sd_from_sample, .to_ser = sd_to_ser, .to_ser_ref = sd_to_ser_ref,
    .to_ser_unref = sd_to_ser_unref, .to_sample = sd_to_sample, .to_untyped = sd_to_untyped,
    .untyped_to_sample = sd_untyped_to_sample, .free = sd_free, .print = sd_print, .get_keyhash = sd_get_keyhash,
};

static void st_free(struct ddsi_sertype *t) {
    ddsi_sertype_fini(t);
    ddsrt_free(t);
}

static void st_zero_samples(const struct ddsi_sertype *t, void *samples, size_t count) {
    (void)t;
    memset(samples, 0, count * sizeof(raw_sample));
}

static void st_realloc_samples(void **ptrs, const struct ddsi_sertype *t, void *old, size_t oldcount, size_t count) {
    (void)t;
    raw_sample *s = ddsrt_realloc(old, count * sizeof(raw_sample));
    if (count > oldcount) memset(s + oldcount, 0, (count - oldcount) * sizeof(raw_sample));
    for (size_t i = 0; i < count; i++) ptrs[i] = &s[i];
}

static void st_free_samples(const struct ddsi_sertype *t, void **ptrs, size_t count, dds_free_op_t op) {
    (void)t;
    raw_sample *s = ptrs[0];
    if (op & DDS_FREE_CONTENTS_BIT) {
        for (size_t i = 0; i < count; i++) { free(s[i].data); s[i].data = NULL; }
    }
    if (op & DDS_FREE_ALL_BIT) ddsrt_free(s);
}

static bool st_equal(const struct ddsi_sertype *a, const struct ddsi_sertype *b) { (void)a; (void)b; return true; }
static uint32_t st_hash(const struct ddsi_sertype *t) { (void)t; return 0x74657468u; }

static size_t st_serialized_size(const struct ddsi_sertype *t, const void *sample) {
    (void)t;
    return ((const raw_sample *)sample)->size;
}

static bool st_serialize_into(const struct ddsi_sertype *t, const void *sample, void *dst, size_t dst_size) {
    (void)t;
    const raw_sample *s = sample;
    if (dst_size < s->size) return false;
    memcpy(dst, s->data, s->size);
    return true;
}

static const struct ddsi_sertype_ops raw_sertype_ops = {
    .version = ddsi_sertype_v0, .arg = NULL, .free = st_free, .zero_samples = st_zero_samples,
    .realloc_samples = st_realloc_samples, .free_samples = st_free_samples, .equal = st_equal, .hash = st_hash,
    .type_id = NULL, .type_map = NULL, .type_info = NULL, .derive_sertype = NULL,
    .get_serialized_size = st_serialized_size, .serialize_into = st_serialize_into,
};

int32_t tdds_participant_create(uint32_t domain, const char *config_xml) {
    if (config_xml) {
        dds_entity_t d = dds_create_domain(domain, config_xml);
        if (d < 0 && d != DDS_RETCODE_PRECONDITION_NOT_MET) return d;  // already created: reuse
    }
    return dds_create_participant(domain, NULL, NULL);
}

int32_t tdds_topic_create(int32_t participant, const char *topic_name, const char *type_name, const void **sertype) {
    raw_sertype *st = ddsrt_malloc(sizeof *st);
    memset(st, 0, sizeof *st);
    ddsi_sertype_init(&st->c, type_name, &raw_sertype_ops, &raw_serdata_ops, true);
    st->c.allowed_data_representation = DDS_DATA_REPRESENTATION_FLAG_XCDR1;
    struct ddsi_sertype *stp = &st->c;
    dds_entity_t topic = dds_create_topic_sertype(participant, topic_name, &stp, NULL, NULL, NULL);
    if (topic < 0) st_free(&st->c);
    else if (sertype) *sertype = stp;  // Cyclone may have swapped in an equal sertype it already had
    return topic;
}

/* flags: bit 0 reliable (else best effort), bit 1 transient local (else volatile), bit 2 batched writes. */
static dds_qos_t *make_qos(int flags, int32_t depth) {
    dds_qos_t *qos = dds_create_qos();
    dds_qset_reliability(qos, (flags & 1) ? DDS_RELIABILITY_RELIABLE : DDS_RELIABILITY_BEST_EFFORT, DDS_SECS(1));
    if (depth > 0) dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, depth);
    else dds_qset_history(qos, DDS_HISTORY_KEEP_ALL, DDS_LENGTH_UNLIMITED);
    dds_qset_durability(qos, (flags & 2) ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
    dds_data_representation_id_t xcdr1 = DDS_DATA_REPRESENTATION_XCDR1;
    dds_qset_data_representation(qos, 1, &xcdr1);
    return qos;
}

// Cyclone 0.10 has no batching QoS: a writer batches when its domain's WriteBatch setting is on as
// it is created, so the setting is switched on around that one creation (under a lock, so that no
// other writer of ours is created batched by accident).
static pthread_mutex_t batch_lock = PTHREAD_MUTEX_INITIALIZER;

int32_t tdds_writer_create(int32_t participant, int32_t topic, int flags, int32_t depth) {
    dds_qos_t *qos = make_qos(flags, depth);
    pthread_mutex_lock(&batch_lock);
    if (flags & 4) dds_write_set_batch(true);
    dds_entity_t w = dds_create_writer(participant, topic, qos, NULL);
    if (flags & 4) dds_write_set_batch(false);
    pthread_mutex_unlock(&batch_lock);
    dds_delete_qos(qos);
    return w;
}

int32_t tdds_reader_create(int32_t participant, int32_t topic, int flags, int32_t depth) {
    dds_qos_t *qos = make_qos(flags, depth);
    dds_entity_t r = dds_create_reader(participant, topic, qos, NULL);
    dds_delete_qos(qos);
    return r;
}

int32_t tdds_write(int32_t writer, const uint8_t *data, size_t size) {
    raw_sample s = {(uint8_t *)data, size};
    return dds_write(writer, &s);
}

int32_t tdds_take(int32_t reader, uint8_t **data, size_t *size, int64_t *source_timestamp) {
    for (;;) {
        raw_sample s = {NULL, 0};
        void *ptrs[1] = {&s};
        dds_sample_info_t info;
        int32_t n = dds_take(reader, ptrs, &info, 1, 1);
        if (n <= 0) return n;
        if (!info.valid_data) { free(s.data); continue; }  // skip invalid samples (disposals, unregistrations)
        *data = s.data;
        *size = s.size;
        if (source_timestamp) *source_timestamp = info.source_timestamp;
        return 1;
    }
}

void tdds_free(void *p) { free(p); }

int32_t tdds_wait_for_data(int32_t reader, int64_t timeout_ns) {
    dds_entity_t participant = dds_get_participant(reader);
    dds_entity_t ws = dds_create_waitset(participant);
    if (ws < 0) return ws;
    dds_entity_t cond = dds_create_readcondition(reader, DDS_ANY_STATE);
    dds_waitset_attach(ws, cond, 0);
    int32_t n = dds_waitset_wait(ws, NULL, 0, timeout_ns);
    dds_delete(cond);
    dds_delete(ws);
    return n < 0 ? n : (n > 0 ? 1 : 0);
}

int32_t tdds_waitset_create(int32_t reader) {
    dds_entity_t ws = dds_create_waitset(dds_get_participant(reader));
    if (ws < 0) return ws;
    dds_entity_t cond = dds_create_readcondition(reader, DDS_ANY_STATE);
    if (cond < 0) { dds_delete(ws); return cond; }
    int32_t rc = dds_waitset_attach(ws, cond, 0);
    if (rc < 0) { dds_delete(ws); return rc; }
    return ws;
}

int32_t tdds_waitset_wait(int32_t waitset, int64_t timeout_ns) {
    int32_t n = dds_waitset_wait(waitset, NULL, 0, timeout_ns);
    return n < 0 ? n : (n > 0 ? 1 : 0);
}

void *tdds_sample_new(const void *sertype, size_t size, uint8_t **data) {
    raw_serdata *d = raw_new(sertype, SDK_DATA, size);
    *data = d->data;
    return d;
}

int32_t tdds_write_sample(int32_t writer, void *sample) {
    return dds_writecdr(writer, (struct ddsi_serdata *)sample);  // consumes the reference, on error too
}

int32_t tdds_write_flush(int32_t writer) {
    dds_write_flush(writer);
    return 0;
}

void tdds_sample_release(void *sample) { ddsi_serdata_unref((struct ddsi_serdata *)sample); }

int32_t tdds_take_borrowed(int32_t reader, void **sample, const uint8_t **data, size_t *size, int64_t *source_timestamp) {
    for (;;) {
        struct ddsi_serdata *d = NULL;
        dds_sample_info_t info;
        int32_t n = dds_takecdr(reader, &d, 1, &info, DDS_ANY_STATE);
        if (n <= 0) return n;
        if (!info.valid_data) { ddsi_serdata_unref(d); continue; }
        const raw_serdata *r = (const raw_serdata *)d;
        *sample = d;
        *data = r->data;
        *size = r->size;
        if (source_timestamp) *source_timestamp = info.source_timestamp;
        return 1;
    }
}

int32_t tdds_take_borrowed_batch(int32_t reader, int32_t max, void **samples, const uint8_t **data, size_t *sizes, int64_t *source_timestamps) {
    if (max <= 0) return 0;
    if (max > 64) max = 64;
    struct ddsi_serdata *d[64];
    dds_sample_info_t info[64];
    int32_t n = dds_takecdr(reader, d, (uint32_t)max, info, DDS_ANY_STATE);
    if (n <= 0) return n;
    int32_t kept = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!info[i].valid_data) { ddsi_serdata_unref(d[i]); continue; }
        const raw_serdata *r = (const raw_serdata *)d[i];
        samples[kept] = d[i];
        data[kept] = r->data;
        sizes[kept] = r->size;
        source_timestamps[kept] = info[i].source_timestamp;
        kept++;
    }
    // n (not kept): the caller takes again only when the reader filled the whole batch.
    return kept | (n == max ? 0x10000 : 0);
}

int32_t tdds_reader_set_callback(int32_t reader, void (*callback)(int32_t reader, void *context), void *context) {
    if (!callback) return dds_set_listener(reader, NULL);
    dds_listener_t *listener = dds_create_listener(context);
    dds_lset_data_available_arg(listener, callback, context, true);
    int32_t rc = dds_set_listener(reader, listener);
    dds_delete_listener(listener);
    return rc;
}

int32_t tdds_matched(int32_t entity, int is_writer) {
    if (is_writer) {
        dds_publication_matched_status_t st;
        int32_t rc = dds_get_publication_matched_status(entity, &st);
        return rc < 0 ? rc : (int32_t)st.current_count;
    }
    dds_subscription_matched_status_t st;
    int32_t rc = dds_get_subscription_matched_status(entity, &st);
    return rc < 0 ? rc : (int32_t)st.current_count;
}

int32_t tdds_delete(int32_t entity) { return dds_delete(entity); }

const char *tdds_error_text(int32_t code) { return dds_strretcode(code); }
