/*
 * clr_api.h — export marker of the demo's native library.
 *
 * The project builds with hidden visibility; the mesh and slicer functions
 * are also called through ctypes from the shared clearing_slicer library
 * (the ProcessPoolExecutor comparison), so they are exported.
 */
#ifndef CLR_API_H
#define CLR_API_H

#if defined(__GNUC__)
#define CLR_API __attribute__((visibility("default")))
#else
#define CLR_API
#endif

#endif /* CLR_API_H */
