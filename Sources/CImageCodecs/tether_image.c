// JPEG and PNG codecs over Debian's libjpeg-turbo and libpng; see include/tether_image.h.
#include "tether_image.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

// ---------------------------------------------------------------------------------------------
// JPEG: fatal errors jump back to the caller's frame with the library's message.

struct timg_jpeg_error {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void timg_jpeg_error_exit(j_common_ptr info) {
    struct timg_jpeg_error *e = (struct timg_jpeg_error *)info->err;
    (*info->err->format_message)(info, e->message);
    longjmp(e->jump, 1);
}

// Warnings (for example "premature end of data segment") are not fatal: keep the first one
// quiet instead of printing to stderr.
static void timg_jpeg_output_message(j_common_ptr info) { (void)info; }

// The error manager both codecs use; the caller still calls setjmp(e->jump) in its own frame
// (a jump target must outlive the library calls, so it cannot be set up here).
static struct jpeg_error_mgr *timg_jpeg_error_init(struct timg_jpeg_error *e) {
    struct jpeg_error_mgr *manager = jpeg_std_error(&e->manager);
    manager->error_exit = timg_jpeg_error_exit;
    manager->output_message = timg_jpeg_output_message;
    e->message[0] = 0;
    return manager;
}

static void timg_set_error(char *error, size_t size, const char *text) {
    if (error && size > 0) {
        snprintf(error, size, "%s", text);
    }
}

int timg_jpeg_decode(const uint8_t *data, size_t size, int *width, int *height, int *channels,
                     uint8_t **pixels, char *error, size_t error_size) {
    struct jpeg_decompress_struct info;
    struct timg_jpeg_error err;
    uint8_t *volatile buffer = NULL;
    *pixels = NULL;
    memset(&info, 0, sizeof info);
    info.err = timg_jpeg_error_init(&err);
    if (setjmp(err.jump)) {
        timg_set_error(error, error_size, err.message[0] ? err.message : "JPEG decoding failed");
        jpeg_destroy_decompress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    info.out_color_space = info.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
    // OpenCV's imread decodes with the library's defaults (islow DCT, fancy upsampling): so do we.
    jpeg_start_decompress(&info);
    int w = (int)info.output_width, h = (int)info.output_height, c = info.output_components;
    if (c != 1 && c != 3) {
        timg_set_error(error, error_size, "unsupported JPEG colour layout");
        jpeg_destroy_decompress(&info);
        return 1;
    }
    size_t stride = (size_t)w * (size_t)c;
    buffer = malloc(stride * (size_t)h + 1);
    if (!buffer) {
        timg_set_error(error, error_size, "out of memory");
        jpeg_destroy_decompress(&info);
        return 1;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = buffer + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    *width = w; *height = h; *channels = c;
    *pixels = buffer;
    return 0;
}

int timg_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, int quality,
                     uint8_t **out, size_t *out_size, char *error, size_t error_size) {
    struct jpeg_compress_struct info;
    struct timg_jpeg_error err;
    unsigned char *volatile buffer = NULL;
    unsigned long volatile size = 0;
    *out = NULL; *out_size = 0;
    if ((channels != 1 && channels != 3) || width <= 0 || height <= 0) {
        timg_set_error(error, error_size, "JPEG encoding takes a non-empty RGB or grey image");
        return 1;
    }
    memset(&info, 0, sizeof info);
    info.err = timg_jpeg_error_init(&err);
    if (setjmp(err.jump)) {
        timg_set_error(error, error_size, err.message[0] ? err.message : "JPEG encoding failed");
        jpeg_destroy_compress(&info);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, (unsigned char **)&buffer, (unsigned long *)&size);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = channels;
    info.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    jpeg_start_compress(&info, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * info.next_scanline);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    *out = buffer;
    *out_size = size;
    return 0;
}

// ---------------------------------------------------------------------------------------------
// PNG: libpng's simplified API reports errors in image.message and never longjmps out.

int timg_png_decode(const uint8_t *data, size_t size, int *width, int *height, int *channels,
                    uint8_t **pixels, char *error, size_t error_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    *pixels = NULL;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        timg_set_error(error, error_size, image.message[0] ? image.message : "not a PNG file");
        png_image_free(&image);
        return 1;
    }
    int color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
    int alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    int linear = (image.format & PNG_FORMAT_FLAG_LINEAR) != 0;  // 16-bit samples
    int c = color ? 3 : 1;
    size_t count = (size_t)image.width * (size_t)image.height;
    uint8_t *result = malloc(count * (size_t)c + 1);
    if (!result) {
        png_image_free(&image);
        timg_set_error(error, error_size, "out of memory");
        return 1;
    }
    int ok;
    if (linear && !alpha) {
        // 16-bit without alpha: read the samples unchanged, keep each one's high byte.
        image.format = color ? PNG_FORMAT_LINEAR_RGB : PNG_FORMAT_LINEAR_Y;
        uint16_t *wide = malloc(count * (size_t)c * sizeof(uint16_t) + 2);
        if (!wide) {
            free(result);
            png_image_free(&image);
            timg_set_error(error, error_size, "out of memory");
            return 1;
        }
        ok = png_image_finish_read(&image, NULL, wide, 0, NULL);
        if (ok) {
            for (size_t i = 0; i < count * (size_t)c; i++) result[i] = (uint8_t)(wide[i] >> 8);
        }
        free(wide);
    } else if (alpha) {
        // Read with alpha (8-bit sRGB), then drop it in place.
        int full = c + 1;
        image.format = color ? PNG_FORMAT_RGBA : PNG_FORMAT_GA;
        uint8_t *withAlpha = malloc(count * (size_t)full + 1);
        if (!withAlpha) {
            free(result);
            png_image_free(&image);
            timg_set_error(error, error_size, "out of memory");
            return 1;
        }
        ok = png_image_finish_read(&image, NULL, withAlpha, 0, NULL);
        if (ok) {
            for (size_t i = 0; i < count; i++) {
                for (int k = 0; k < c; k++) result[i * (size_t)c + (size_t)k] = withAlpha[i * (size_t)full + (size_t)k];
            }
        }
        free(withAlpha);
    } else {
        image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
        ok = png_image_finish_read(&image, NULL, result, 0, NULL);
    }
    if (!ok) {
        timg_set_error(error, error_size, image.message[0] ? image.message : "PNG decoding failed");
        free(result);
        png_image_free(&image);
        return 1;
    }
    *width = (int)image.width; *height = (int)image.height; *channels = c;
    *pixels = result;
    png_image_free(&image);
    return 0;
}

int timg_png_encode(const uint8_t *pixels, int width, int height, int channels,
                    uint8_t **out, size_t *out_size, char *error, size_t error_size) {
    *out = NULL; *out_size = 0;
    if ((channels != 1 && channels != 3) || width <= 0 || height <= 0) {
        timg_set_error(error, error_size, "PNG encoding takes a non-empty RGB or grey image");
        return 1;
    }
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&image, NULL, &size, 0, pixels, 0, NULL)) {
        timg_set_error(error, error_size, image.message[0] ? image.message : "PNG encoding failed");
        return 1;
    }
    uint8_t *buffer = malloc(size);
    if (!buffer) {
        timg_set_error(error, error_size, "out of memory");
        return 1;
    }
    if (!png_image_write_to_memory(&image, buffer, &size, 0, pixels, 0, NULL)) {
        timg_set_error(error, error_size, image.message[0] ? image.message : "PNG encoding failed");
        free(buffer);
        return 1;
    }
    *out = buffer;
    *out_size = size;
    return 0;
}

void timg_free(void *buffer) { free(buffer); }
