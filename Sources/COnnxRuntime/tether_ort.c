// See tether_ort.h. Written for Tether; the slot numbers are facts of ONNX Runtime's ABI.
#include "tether_ort.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct OrtStatus OrtStatus;
typedef struct OrtEnv OrtEnv;
typedef struct OrtSession OrtSession;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtValue OrtValue;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtTypeInfo OrtTypeInfo;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtModelMetadata OrtModelMetadata;
typedef struct OrtRunOptions OrtRunOptions;
typedef struct OrtAllocator OrtAllocator;
typedef void (*tort_fn)(void);

typedef struct {
    const void *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} OrtApiBase;

// Zero-based slots of the OrtApi table (append-only since ONNX Runtime 1.0).
enum {
    S_GetErrorMessage = 2, S_CreateEnv = 3, S_CreateSession = 7, S_CreateSessionFromArray = 8, S_Run = 9,
    S_CreateSessionOptions = 10, S_SetSessionGraphOptimizationLevel = 23, S_SetIntraOpNumThreads = 24,
    S_SetInterOpNumThreads = 25, S_SessionGetInputCount = 30, S_SessionGetOutputCount = 31,
    S_SessionGetInputTypeInfo = 33, S_SessionGetOutputTypeInfo = 34, S_SessionGetInputName = 36,
    S_SessionGetOutputName = 37, S_CreateTensorWithDataAsOrtValue = 49, S_CastTypeInfoToTensorInfo = 55,
    S_GetOnnxTypeFromTypeInfo = 56, S_GetTensorElementType = 60, S_GetDimensionsCount = 61, S_GetDimensions = 62,
    S_CreateCpuMemoryInfo = 69, S_AllocatorFree = 76, S_GetAllocatorWithDefaultOptions = 78, S_ReleaseEnv = 92,
    S_ReleaseStatus = 93, S_ReleaseMemoryInfo = 94, S_ReleaseSession = 95, S_ReleaseValue = 96,
    S_ReleaseTypeInfo = 98, S_ReleaseSessionOptions = 100, S_SessionGetModelMetadata = 111,
    S_ModelMetadataGetProducerName = 112, S_ModelMetadataGetDescription = 115,
    S_ModelMetadataLookupCustomMetadataMap = 116, S_ReleaseModelMetadata = 118,
    S_ModelMetadataGetCustomMetadataMapKeys = 123,
};

// The API version requested: old enough for every library from 1.17 on, new enough for all slots.
#define TORT_API_VERSION 17

static const tort_fn *api;  // the OrtApi table viewed as function pointers
static OrtEnv *env;
static const char *version;
static char loaded_path[4096];
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

#define FN(slot, type) ((type)api[slot])

static void copy_text(char *dst, size_t size, const char *src) {
    if (!dst || size == 0) return;
    snprintf(dst, size, "%s", src ? src : "");
}

// Converts a status to a message and releases it; returns 0 for success (NULL status).
static int check(OrtStatus *status, char *error, size_t error_size) {
    if (!status) return 0;
    const char *message = FN(S_GetErrorMessage, const char *(*)(const OrtStatus *))(status);
    copy_text(error, error_size, message);
    FN(S_ReleaseStatus, void (*)(OrtStatus *))(status);
    return -1;
}

int tort_load(const char *path, char *error, size_t error_size) {
    pthread_mutex_lock(&load_lock);
    int result = 0;
    if (api) {
        if (strcmp(path, loaded_path) != 0) {
            snprintf(error, error_size, "ONNX Runtime is already loaded from %s; one process uses one library", loaded_path);
            result = -1;
        }
        goto done;
    }
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        copy_text(error, error_size, dlerror());
        result = -1;
        goto done;
    }
    const OrtApiBase *(*get_base)(void) = (const OrtApiBase *(*)(void))dlsym(handle, "OrtGetApiBase");
    if (!get_base) {
        snprintf(error, error_size, "%s has no OrtGetApiBase symbol: not an ONNX Runtime library", path);
        result = -1;
        goto done;
    }
    const OrtApiBase *base = get_base();
    const void *table = base->GetApi(TORT_API_VERSION);
    if (!table) {
        snprintf(error, error_size, "ONNX Runtime %s at %s does not offer C API version %d (needs 1.17 or newer)",
                 base->GetVersionString(), path, TORT_API_VERSION);
        result = -1;
        goto done;
    }
    api = (const tort_fn *)table;
    version = base->GetVersionString();
    // Logging level 3 = errors only, so warnings never reach a command's standard output.
    if (check(FN(S_CreateEnv, OrtStatus *(*)(int, const char *, OrtEnv **))(3, "tether", &env), error, error_size)) {
        api = NULL;
        result = -1;
        goto done;
    }
    copy_text(loaded_path, sizeof loaded_path, path);
done:
    pthread_mutex_unlock(&load_lock);
    return result;
}

const char *tort_version(void) { return api ? version : NULL; }
const char *tort_loaded_path(void) { return api ? loaded_path : NULL; }

struct tort_session {
    OrtSession *session;
    OrtMemoryInfo *memory;
};

tort_session *tort_session_create(const char *path, const void *bytes, size_t nbytes, int threads,
                                  char *error, size_t error_size) {
    if (!api) { copy_text(error, error_size, "ONNX Runtime is not loaded"); return NULL; }
    OrtSessionOptions *options = NULL;
    if (check(FN(S_CreateSessionOptions, OrtStatus *(*)(OrtSessionOptions **))(&options), error, error_size)) return NULL;
    int failed = check(FN(S_SetIntraOpNumThreads, OrtStatus *(*)(OrtSessionOptions *, int))(options, threads), error, error_size)
              || check(FN(S_SetInterOpNumThreads, OrtStatus *(*)(OrtSessionOptions *, int))(options, 1), error, error_size)
              || check(FN(S_SetSessionGraphOptimizationLevel, OrtStatus *(*)(OrtSessionOptions *, int))(options, 99), error, error_size);
    OrtSession *session = NULL;
    if (!failed) {
        if (bytes) {
            failed = check(FN(S_CreateSessionFromArray, OrtStatus *(*)(const OrtEnv *, const void *, size_t, const OrtSessionOptions *, OrtSession **))(
                               env, bytes, nbytes, options, &session), error, error_size);
        } else {
            failed = check(FN(S_CreateSession, OrtStatus *(*)(const OrtEnv *, const char *, const OrtSessionOptions *, OrtSession **))(
                               env, path, options, &session), error, error_size);
        }
    }
    FN(S_ReleaseSessionOptions, void (*)(OrtSessionOptions *))(options);
    if (failed) return NULL;
    tort_session *result = calloc(1, sizeof *result);
    result->session = session;
    // OrtArenaAllocator = 1, OrtMemTypeDefault = 0.
    if (check(FN(S_CreateCpuMemoryInfo, OrtStatus *(*)(int, int, OrtMemoryInfo **))(1, 0, &result->memory), error, error_size)) {
        tort_session_release(result);
        return NULL;
    }
    return result;
}

void tort_session_release(tort_session *s) {
    if (!s) return;
    if (s->memory) FN(S_ReleaseMemoryInfo, void (*)(OrtMemoryInfo *))(s->memory);
    if (s->session) FN(S_ReleaseSession, void (*)(OrtSession *))(s->session);
    free(s);
}

size_t tort_input_count(const tort_session *s) {
    size_t n = 0;
    if (check(FN(S_SessionGetInputCount, OrtStatus *(*)(const OrtSession *, size_t *))(s->session, &n), NULL, 0)) return 0;
    return n;
}

size_t tort_output_count(const tort_session *s) {
    size_t n = 0;
    if (check(FN(S_SessionGetOutputCount, OrtStatus *(*)(const OrtSession *, size_t *))(s->session, &n), NULL, 0)) return 0;
    return n;
}

static OrtAllocator *default_allocator(void) {
    OrtAllocator *allocator = NULL;
    check(FN(S_GetAllocatorWithDefaultOptions, OrtStatus *(*)(OrtAllocator **))(&allocator), NULL, 0);
    return allocator;
}

static void allocator_free(void *p) {
    if (p) FN(S_AllocatorFree, OrtStatus *(*)(OrtAllocator *, void *))(default_allocator(), p);
}

int tort_io_info(const tort_session *s, int is_output, size_t index, char *name, size_t name_size,
                 int *element_type, int64_t *dims, size_t max_dims, size_t *rank, char *error, size_t error_size) {
    char *raw_name = NULL;
    int slot_name = is_output ? S_SessionGetOutputName : S_SessionGetInputName;
    if (check(FN(slot_name, OrtStatus *(*)(const OrtSession *, size_t, OrtAllocator *, char **))(s->session, index, default_allocator(), &raw_name), error, error_size)) return -1;
    copy_text(name, name_size, raw_name);
    allocator_free(raw_name);

    OrtTypeInfo *type_info = NULL;
    int slot_type = is_output ? S_SessionGetOutputTypeInfo : S_SessionGetInputTypeInfo;
    if (check(FN(slot_type, OrtStatus *(*)(const OrtSession *, size_t, OrtTypeInfo **))(s->session, index, &type_info), error, error_size)) return -1;
    int onnx_type = 0;
    int failed = check(FN(S_GetOnnxTypeFromTypeInfo, OrtStatus *(*)(const OrtTypeInfo *, int *))(type_info, &onnx_type), error, error_size);
    if (!failed && onnx_type != 1) {  // ONNX_TYPE_TENSOR
        snprintf(error, error_size, "is not a tensor (ONNX type %d)", onnx_type);
        failed = -1;
    }
    const OrtTensorTypeAndShapeInfo *tensor = NULL;
    if (!failed) failed = check(FN(S_CastTypeInfoToTensorInfo, OrtStatus *(*)(const OrtTypeInfo *, const OrtTensorTypeAndShapeInfo **))(type_info, &tensor), error, error_size);
    if (!failed) failed = check(FN(S_GetTensorElementType, OrtStatus *(*)(const OrtTensorTypeAndShapeInfo *, int *))(tensor, element_type), error, error_size);
    if (!failed) failed = check(FN(S_GetDimensionsCount, OrtStatus *(*)(const OrtTensorTypeAndShapeInfo *, size_t *))(tensor, rank), error, error_size);
    if (!failed) {
        int64_t all[64];
        size_t n = *rank < 64 ? *rank : 64;
        failed = check(FN(S_GetDimensions, OrtStatus *(*)(const OrtTensorTypeAndShapeInfo *, int64_t *, size_t))(tensor, all, n), error, error_size);
        for (size_t i = 0; !failed && i < n && i < max_dims; i++) dims[i] = all[i];
    }
    FN(S_ReleaseTypeInfo, void (*)(OrtTypeInfo *))(type_info);
    return failed ? -1 : 0;
}

static OrtModelMetadata *metadata(tort_session *s, char *error, size_t error_size) {
    OrtModelMetadata *m = NULL;
    if (check(FN(S_SessionGetModelMetadata, OrtStatus *(*)(const OrtSession *, OrtModelMetadata **))(s->session, &m), error, error_size)) return NULL;
    return m;
}

static void release_metadata(OrtModelMetadata *m) { FN(S_ReleaseModelMetadata, void (*)(OrtModelMetadata *))(m); }

int64_t tort_metadata_count(tort_session *s, char *error, size_t error_size) {
    OrtModelMetadata *m = metadata(s, error, error_size);
    if (!m) return -1;
    char **keys = NULL;
    int64_t n = 0;
    int failed = check(FN(S_ModelMetadataGetCustomMetadataMapKeys, OrtStatus *(*)(const OrtModelMetadata *, OrtAllocator *, char ***, int64_t *))(
                           m, default_allocator(), &keys, &n), error, error_size);
    if (!failed) {
        for (int64_t i = 0; i < n; i++) allocator_free(keys[i]);
        allocator_free(keys);
    }
    release_metadata(m);
    return failed ? -1 : n;
}

int tort_metadata_entry(tort_session *s, int64_t index, char *key, size_t key_size, char *value, size_t value_size,
                        char *error, size_t error_size) {
    OrtModelMetadata *m = metadata(s, error, error_size);
    if (!m) return -1;
    char **keys = NULL;
    int64_t n = 0;
    int failed = check(FN(S_ModelMetadataGetCustomMetadataMapKeys, OrtStatus *(*)(const OrtModelMetadata *, OrtAllocator *, char ***, int64_t *))(
                           m, default_allocator(), &keys, &n), error, error_size);
    if (!failed && (index < 0 || index >= n)) {
        snprintf(error, error_size, "metadata index %lld out of range (%lld entries)", (long long)index, (long long)n);
        failed = -1;
    }
    if (!failed) {
        copy_text(key, key_size, keys[index]);
        char *raw = NULL;
        failed = check(FN(S_ModelMetadataLookupCustomMetadataMap, OrtStatus *(*)(const OrtModelMetadata *, OrtAllocator *, const char *, char **))(
                           m, default_allocator(), keys[index], &raw), error, error_size);
        if (!failed) copy_text(value, value_size, raw);
        allocator_free(raw);
    }
    if (keys) {
        for (int64_t i = 0; i < n; i++) allocator_free(keys[i]);
        allocator_free(keys);
    }
    release_metadata(m);
    return failed ? -1 : 0;
}

int tort_metadata_strings(tort_session *s, char *producer, size_t producer_size, char *description, size_t description_size,
                          char *error, size_t error_size) {
    OrtModelMetadata *m = metadata(s, error, error_size);
    if (!m) return -1;
    char *raw = NULL;
    int failed = check(FN(S_ModelMetadataGetProducerName, OrtStatus *(*)(const OrtModelMetadata *, OrtAllocator *, char **))(m, default_allocator(), &raw), error, error_size);
    if (!failed) copy_text(producer, producer_size, raw);
    allocator_free(raw);
    raw = NULL;
    if (!failed) failed = check(FN(S_ModelMetadataGetDescription, OrtStatus *(*)(const OrtModelMetadata *, OrtAllocator *, char **))(m, default_allocator(), &raw), error, error_size);
    if (!failed) copy_text(description, description_size, raw);
    allocator_free(raw);
    release_metadata(m);
    return failed ? -1 : 0;
}

struct tort_binding {
    tort_session *session;
    size_t input_count, output_count;
    char **input_names, **output_names;
    OrtValue **inputs, **outputs;
};

void tort_binding_release(tort_binding *b) {
    if (!b) return;
    for (size_t i = 0; i < b->input_count; i++) {
        if (b->inputs && b->inputs[i]) FN(S_ReleaseValue, void (*)(OrtValue *))(b->inputs[i]);
        if (b->input_names) free(b->input_names[i]);
    }
    for (size_t i = 0; i < b->output_count; i++) {
        if (b->outputs && b->outputs[i]) FN(S_ReleaseValue, void (*)(OrtValue *))(b->outputs[i]);
        if (b->output_names) free(b->output_names[i]);
    }
    free(b->inputs); free(b->outputs); free(b->input_names); free(b->output_names);
    free(b);
}

static OrtValue *float_tensor(tort_session *s, float *data, const int64_t *shape, size_t rank, char *error, size_t error_size) {
    size_t count = 1;
    for (size_t i = 0; i < rank; i++) count *= (size_t)shape[i];
    OrtValue *value = NULL;
    if (check(FN(S_CreateTensorWithDataAsOrtValue, OrtStatus *(*)(const OrtMemoryInfo *, void *, size_t, const int64_t *, size_t, int, OrtValue **))(
                  s->memory, data, count * sizeof(float), shape, rank, TORT_FLOAT, &value), error, error_size)) return NULL;
    return value;
}

tort_binding *tort_binding_create(tort_session *s, size_t input_count, float *const *inputs, const int64_t *const *input_shapes,
                                  const size_t *input_ranks, size_t output_count, float *const *outputs,
                                  const int64_t *const *output_shapes, const size_t *output_ranks, char *error, size_t error_size) {
    tort_binding *b = calloc(1, sizeof *b);
    b->session = s;
    b->input_count = input_count;
    b->output_count = output_count;
    b->inputs = calloc(input_count, sizeof(OrtValue *));
    b->outputs = calloc(output_count, sizeof(OrtValue *));
    b->input_names = calloc(input_count, sizeof(char *));
    b->output_names = calloc(output_count, sizeof(char *));
    for (size_t i = 0; i < input_count; i++) {
        char name[1024];
        int type; int64_t dims[1]; size_t rank;
        if (tort_io_info(s, 0, i, name, sizeof name, &type, dims, 0, &rank, error, error_size)) goto fail;
        b->input_names[i] = strdup(name);
        if (!(b->inputs[i] = float_tensor(s, inputs[i], input_shapes[i], input_ranks[i], error, error_size))) goto fail;
    }
    for (size_t i = 0; i < output_count; i++) {
        char name[1024];
        int type; int64_t dims[1]; size_t rank;
        if (tort_io_info(s, 1, i, name, sizeof name, &type, dims, 0, &rank, error, error_size)) goto fail;
        b->output_names[i] = strdup(name);
        if (!(b->outputs[i] = float_tensor(s, outputs[i], output_shapes[i], output_ranks[i], error, error_size))) goto fail;
    }
    return b;
fail:
    tort_binding_release(b);
    return NULL;
}

int tort_binding_run(tort_binding *b, char *error, size_t error_size) {
    return check(FN(S_Run, OrtStatus *(*)(OrtSession *, const OrtRunOptions *, const char *const *, const OrtValue *const *, size_t,
                                          const char *const *, size_t, OrtValue **))(
                     b->session->session, NULL, (const char *const *)b->input_names, (const OrtValue *const *)b->inputs, b->input_count,
                     (const char *const *)b->output_names, b->output_count, b->outputs), error, error_size);
}
