#ifndef TETHER_RENDER_H
#define TETHER_RENDER_H
// Headless OpenGL for MuJoCo's renderer: an EGL context with no window or surface (Mesa's
// surfaceless platform where it exists, else the default display), made current on the calling
// thread. MuJoCo's `mjr_*` functions then draw into their own offscreen framebuffer.
#include <stddef.h>

typedef struct tr_gl tr_gl;

/// Creates a context and makes it current on this thread; NULL on failure, with the reason in `error`.
tr_gl *tr_gl_create(char *error, size_t error_size);
/// The GL_RENDERER string of the current context ("llvmpipe (LLVM 15.0.6, 256 bits)", a GPU's name).
const char *tr_gl_renderer(void);
/// Makes the context current on the calling thread again (0 on success).
int tr_gl_make_current(tr_gl *gl);
/// Releases the context and the display.
void tr_gl_destroy(tr_gl *gl);

#endif
