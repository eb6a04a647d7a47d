/* Opening input files (data, parameter files) without ever blocking in open(). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "chaosgd/dataset.h"

FILE *cgd_open_input(const char *path) {
  /* O_NONBLOCK only for the open itself: a FIFO without a writer would otherwise block
   * the open forever; with it the open returns and the first read sees end of file. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return NULL;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return NULL;
  }
  FILE *f = fdopen(fd, "rb");
  if (!f) {
    int e = errno;
    close(fd);
    errno = e;
  }
  return f;
}
