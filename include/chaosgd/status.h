/* Status codes and error messages shared by every chaosgd function.
 * Functions return CGD_OK (0) or a negative cgd_status and, on failure, fill the
 * caller's cgd_error with one human-readable line. Only a tool's main() exits. */
#ifndef CHAOSGD_STATUS_H
#define CHAOSGD_STATUS_H

typedef enum {
  CGD_OK = 0,
  CGD_EINTERNAL = -1,    /* a bug or an impossible state */
  CGD_EUSAGE = -2,       /* bad option or argument value */
  CGD_EDATA = -3,        /* malformed or missing input data / input file */
  CGD_EIO = -4,          /* cannot write outputs */
  CGD_EDIVERGED = -5,    /* non-finite or exploding loss / state */
  CGD_EINTERRUPTED = -6, /* stopped by a signal; outputs so far are written */
  CGD_ENOMEM = -7,       /* allocation failed */
  CGD_EDOMAIN = -8       /* an argument outside the domain a kernel is accurate on (e.g.
                            |x/ε| beyond CGD_VMATH_MAX_ARG of chaosgd/vmath.h); tools map
                            it to exit code 2, like a bad option value */
} cgd_status;

typedef struct cgd_error {
  char msg[1024];
} cgd_error;

/* Fill err->msg (if err is not NULL) with the printf-style message; return code. */
int cgd_fail(cgd_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short name of a status ("ok", "usage", "data", ...). */
const char *cgd_status_name(int code);

/* Process exit code of a tool for a status: 0 ok, 1 internal/nomem, 2 usage/domain, 3 data,
 * 4 I/O, 5 diverged, 6 interrupted (the table in the README). */
int cgd_exit_code(int code);

#endif
