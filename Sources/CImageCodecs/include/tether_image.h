// JPEG (libjpeg-turbo's libjpeg API) and PNG (libpng's simplified png_image API) for TetherVision.
// Debian: libjpeg62-turbo-dev, libpng-dev (installed by scripts/setup.sh).
//
// libjpeg reports fatal errors through error_exit, which must not return: the decoder needs
// setjmp/longjmp, which Swift cannot call, so the codecs live in this small C file and Swift sees
// only functions that return a status and a message.
#ifndef TETHER_IMAGE_H
#define TETHER_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Decodes a JPEG held in memory to 8-bit interleaved pixels: RGB (3 channels) for colour images,
/// grey (1 channel) for greyscale ones (CMYK / YCCK files are an error). `*pixels` is allocated with
/// malloc; free it with timg_free. Returns 0 on success, else writes a message to `error`.
int timg_jpeg_decode(const uint8_t *data, size_t size, int *width, int *height, int *channels,
                     uint8_t **pixels, char *error, size_t error_size);

/// Encodes 8-bit interleaved RGB (3) or grey (1) pixels as a baseline JPEG of `quality` (1–100).
int timg_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                     uint8_t **out, size_t *out_size, char *error, size_t error_size);

/// Decodes a PNG held in memory to 8-bit RGB (3) or grey (1): palette images become RGB; an
/// alpha channel is dropped (as OpenCV's imread does); 16-bit samples keep their high byte.
int timg_png_decode(const uint8_t *data, size_t size, int *width, int *height, int *channels,
                    uint8_t **pixels, char *error, size_t error_size);

/// Encodes 8-bit interleaved RGB (3) or grey (1) pixels as a PNG.
int timg_png_encode(const uint8_t *pixels, int width, int height, int channels,
                    uint8_t **out, size_t *out_size, char *error, size_t error_size);

/// Frees a buffer returned by the functions above.
void timg_free(void *buffer);

#ifdef __cplusplus
}
#endif
#endif
