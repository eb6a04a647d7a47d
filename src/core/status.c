#include "chaosgd/status.h"

#include <stdarg.h>
#include <stdio.h>

int cgd_fail(cgd_error *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

const char *cgd_status_name(int code) {
  switch (code) {
  case CGD_OK: return "ok";
  case CGD_EINTERNAL: return "internal";
  case CGD_EUSAGE: return "usage";
  case CGD_EDATA: return "data";
  case CGD_EIO: return "io";
  case CGD_EDIVERGED: return "diverged";
  case CGD_EINTERRUPTED: return "interrupted";
  case CGD_ENOMEM: return "nomem";
  case CGD_EDOMAIN: return "domain";
  default: return "unknown";
  }
}

int cgd_exit_code(int code) {
  switch (code) {
  case CGD_OK: return 0;
  case CGD_EUSAGE: return 2;
  case CGD_EDOMAIN: return 2;
  case CGD_EDATA: return 3;
  case CGD_EIO: return 4;
  case CGD_EDIVERGED: return 5;
  case CGD_EINTERRUPTED: return 6;
  default: return 1;
  }
}
