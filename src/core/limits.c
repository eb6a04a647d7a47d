#include "chaosgd/limits.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "chaosgd/parse.h"

uint64_t cgd_mem_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

uint64_t cgd_mem_mul(uint64_t a, uint64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* First line of a small text file as a whole number; 0 if absent or not a number
 * ("max" in cgroup v2 means no limit and reads as 0 here). */
static uint64_t read_u64_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[64];
  uint64_t v = 0;
  if (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (cgd_parse_u64(line, &v) != CGD_PARSE_OK) v = 0;
  }
  fclose(f);
  return v;
}

static uint64_t meminfo_total(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  uint64_t v = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "MemTotal:", 9) != 0) continue;
    char num[32];
    const char *p = line + 9;
    while (*p == ' ' || *p == '\t') p++;
    size_t k = 0;
    while (p[k] >= '0' && p[k] <= '9' && k + 1 < sizeof num) num[k] = p[k], k++;
    num[k] = '\0';
    uint64_t kb;
    if (cgd_parse_u64(num, &kb) == CGD_PARSE_OK) v = cgd_mem_mul(kb, 1024);
    break;
  }
  fclose(f);
  return v;
}

static uint64_t min_nonzero(uint64_t a, uint64_t b) {
  if (!a) return b;
  if (!b) return a;
  return a < b ? a : b;
}

uint64_t cgd_default_max_memory(void) {
  uint64_t phys = 0;
  long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  if (pages > 0 && psz > 0) phys = cgd_mem_mul((uint64_t)pages, (uint64_t)psz);
  if (!phys) phys = meminfo_total();
  uint64_t lim = phys;
  /* Containers: the cgroup's limit is what the OOM killer enforces, not physical memory. */
  lim = min_nonzero(lim, read_u64_file("/sys/fs/cgroup/memory.max"));
  uint64_t v1 = read_u64_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  if (v1 < (UINT64_C(1) << 60)) lim = min_nonzero(lim, v1); /* v1 "unlimited" is ~2^63 */
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    lim = min_nonzero(lim, (uint64_t)rl.rlim_cur);
  if (!lim) return UINT64_C(1) << 30;
  return lim / 4 * 3;
}

uint64_t cgd_mlp_memory_bytes(uint64_t n, uint64_t d, uint64_t H) {
  const uint64_t D = sizeof(double);
  uint64_t P = cgd_mem_add(cgd_mem_add(cgd_mem_mul(H, d), cgd_mem_mul(2, H)), 1);
  uint64_t scratch = cgd_mem_add(cgd_mem_mul(cgd_mem_mul(2, n), H), n);
  return cgd_mem_add(cgd_mem_mul(scratch, D), cgd_mem_mul(cgd_mem_mul(8, P), D));
}

uint64_t cgd_mlp_run_memory_bytes(uint64_t n, uint64_t d, uint64_t H, uint64_t iters) {
  const uint64_t D = sizeof(double);
  uint64_t data = cgd_mem_mul(cgd_mem_mul(cgd_mem_mul(n, cgd_mem_add(d, 1)), D), 2);
  uint64_t trace = cgd_mem_mul(cgd_mem_mul(3, cgd_mem_add(iters, 1)), D);
  return cgd_mem_add(cgd_mem_add(cgd_mlp_memory_bytes(n, d, H), data), trace);
}

const char *cgd_mem_format(uint64_t bytes, char *buf, size_t bufsz) {
  static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes == UINT64_MAX) {
    snprintf(buf, bufsz, "more than 16 EiB");
    return buf;
  }
  double v = (double)bytes;
  int u = 0;
  while (v >= 1024 && u < 6) v /= 1024, u++;
  if (u == 0) snprintf(buf, bufsz, "%" PRIu64 " B", bytes);
  else snprintf(buf, bufsz, "%.3g %s", v, unit[u]);
  return buf;
}

int cgd_mem_check(uint64_t need, uint64_t limit, int code, const char *what, cgd_error *err) {
  if (need <= limit) return CGD_OK;
  char a[32], b[32];
  return cgd_fail(err, code,
                  "%s needs %s (more than the memory limit of %s; raise it with --max-memory)",
                  what, cgd_mem_format(need, a, sizeof a), cgd_mem_format(limit, b, sizeof b));
}
