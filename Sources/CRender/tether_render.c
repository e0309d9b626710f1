#include "tether_render.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tr_gl {
    EGLDisplay display;
    EGLContext context;
};

static void set_error(char *error, size_t size, const char *what, EGLint code) {
    if (error && size) snprintf(error, size, "%s (EGL error 0x%04x)", what, (unsigned)code);
}

static EGLDisplay open_display(void) {
    // Mesa's surfaceless platform needs no X server, no GPU and no device node.
    PFNEGLGETPLATFORMDISPLAYEXTPROC get_platform_display =
        (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
#ifdef EGL_PLATFORM_SURFACELESS_MESA
    if (get_platform_display) {
        EGLDisplay d = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
        if (d != EGL_NO_DISPLAY) {
            EGLint major, minor;
            if (eglInitialize(d, &major, &minor)) return d;
        }
    }
#endif
    EGLDisplay d = eglGetDisplay(EGL_DEFAULT_DISPLAY);
    if (d == EGL_NO_DISPLAY) return d;
    EGLint major, minor;
    if (!eglInitialize(d, &major, &minor)) return EGL_NO_DISPLAY;
    return d;
}

tr_gl *tr_gl_create(char *error, size_t error_size) {
    EGLDisplay display = open_display();
    if (display == EGL_NO_DISPLAY) {
        set_error(error, error_size, "no EGL display (neither Mesa's surfaceless platform nor the default display initialised)", eglGetError());
        return NULL;
    }
    // EGL_SURFACE_TYPE defaults to EGL_WINDOW_BIT, which a surfaceless display has none of.
    const EGLint attributes[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8, EGL_DEPTH_SIZE, 24,
                                 EGL_STENCIL_SIZE, 8, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};
    EGLConfig config;
    EGLint count = 0;
    if (!eglChooseConfig(display, attributes, &config, 1, &count) || count < 1) {
        // Surfaceless displays may list configs without a surface type; ask again for any OpenGL config.
        const EGLint any[] = {EGL_SURFACE_TYPE, EGL_DONT_CARE, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};
        if (!eglChooseConfig(display, any, &config, 1, &count) || count < 1) {
            set_error(error, error_size, "no EGL config with desktop OpenGL", eglGetError());
            eglTerminate(display);
            return NULL;
        }
    }
    if (!eglBindAPI(EGL_OPENGL_API)) {
        set_error(error, error_size, "EGL cannot bind desktop OpenGL", eglGetError());
        eglTerminate(display);
        return NULL;
    }
    EGLContext context = eglCreateContext(display, config, EGL_NO_CONTEXT, NULL);
    if (context == EGL_NO_CONTEXT) {
        set_error(error, error_size, "cannot create an OpenGL context", eglGetError());
        eglTerminate(display);
        return NULL;
    }
    if (!eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, context)) {
        set_error(error, error_size, "cannot make the OpenGL context current without a surface", eglGetError());
        eglDestroyContext(display, context);
        eglTerminate(display);
        return NULL;
    }
    tr_gl *gl = calloc(1, sizeof(tr_gl));
    gl->display = display;
    gl->context = context;
    return gl;
}

const char *tr_gl_renderer(void) {
    const GLubyte *r = glGetString(GL_RENDERER);
    return r ? (const char *)r : "unknown";
}

int tr_gl_make_current(tr_gl *gl) {
    return eglMakeCurrent(gl->display, EGL_NO_SURFACE, EGL_NO_SURFACE, gl->context) ? 0 : -1;
}

void tr_gl_destroy(tr_gl *gl) {
    if (!gl) return;
    eglMakeCurrent(gl->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglDestroyContext(gl->display, gl->context);
    eglTerminate(gl->display);
    free(gl);
}
