// Tether's minimal binding to ONNX Runtime's C API, loaded at run time with dlopen.
//
// ONNX Runtime's wheel ships the shared library but no headers, so this file declares only what
// Tether uses. The OrtApi function table is append-only; the slots used here are listed in
// tether_ort.c and checked by the test suite against a real library.
#ifndef TETHER_ORT_H
#define TETHER_ORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Element types (ONNX TensorProto.DataType numbering).
enum {
    TORT_FLOAT = 1, TORT_UINT8 = 2, TORT_INT8 = 3, TORT_INT32 = 6, TORT_INT64 = 7,
    TORT_DOUBLE = 11, TORT_FLOAT16 = 10
};

/// Loads the library at `path` (once per process; later calls with another path fail).
/// Returns 0 on success, else writes a message to `error`.
int tort_load(const char *path, char *error, size_t error_size);

/// ONNX Runtime's version string, or NULL before tort_load.
const char *tort_version(void);

/// The path tort_load succeeded with, or NULL.
const char *tort_loaded_path(void);

typedef struct tort_session tort_session;

/// Creates a session from a model file (`bytes` NULL) or from `nbytes` bytes in memory.
/// `threads` is the intra-op thread count (0: ONNX Runtime's default).
tort_session *tort_session_create(const char *path, const void *bytes, size_t nbytes, int threads,
                                  char *error, size_t error_size);
void tort_session_release(tort_session *session);

size_t tort_input_count(const tort_session *session);
size_t tort_output_count(const tort_session *session);

/// Name, element type and shape (-1 for a dynamic dimension) of input/output `index`.
/// `dims` receives at most `max_dims` values; `*rank` the true rank. Returns 0 on success.
int tort_io_info(const tort_session *session, int is_output, size_t index, char *name, size_t name_size,
                 int *element_type, int64_t *dims, size_t max_dims, size_t *rank, char *error, size_t error_size);

/// Custom metadata (metadata_props): the number of entries, then each key and value by index.
/// Strings are copied into the caller's buffers (truncated to fit). Returns -1 on error.
int64_t tort_metadata_count(tort_session *session, char *error, size_t error_size);
int tort_metadata_entry(tort_session *session, int64_t index, char *key, size_t key_size,
                        char *value, size_t value_size, char *error, size_t error_size);
/// Producer name and graph description from the model's metadata.
int tort_metadata_strings(tort_session *session, char *producer, size_t producer_size,
                          char *description, size_t description_size, char *error, size_t error_size);

/// A run binding: float32 tensors over caller-owned buffers, created once; each run only calls
/// OrtApi::Run. Buffers must stay valid and unmoved for the binding's lifetime.
typedef struct tort_binding tort_binding;

tort_binding *tort_binding_create(tort_session *session,
                                  size_t input_count, float *const *inputs, const int64_t *const *input_shapes,
                                  const size_t *input_ranks,
                                  size_t output_count, float *const *outputs, const int64_t *const *output_shapes,
                                  const size_t *output_ranks,
                                  char *error, size_t error_size);
int tort_binding_run(tort_binding *binding, char *error, size_t error_size);
void tort_binding_release(tort_binding *binding);

#ifdef __cplusplus
}
#endif
#endif
