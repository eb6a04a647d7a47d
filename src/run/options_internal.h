/* The option table's rows, shared by options.c (command line, checks, --help) and
 * config.c (config.json). Not installed. */
#ifndef CHAOSGD_OPTIONS_INTERNAL_H
#define CHAOSGD_OPTIONS_INTERNAL_H

#include <stddef.h>

#include "chaosgd/options.h"

typedef enum {
  OPT_DOUBLE,   /* a finite double in [lo, hi] */
  OPT_U64,      /* a whole number in [lo, hi] */
  OPT_AUTO_U64, /* "auto" or a whole number (auto: 0, burn-in UINT64_MAX) */
  OPT_SEED,     /* any 64-bit whole number; a string in config.json so it stays exact */
  OPT_STR,      /* text */
  OPT_LAW,      /* an initial law (chaosgd/sampling.h), checked with the kind */
  OPT_STEPS,    /* a step list (chaosgd/grid.h), checked with the kind */
  OPT_FLAG,     /* no value on the command line: sets 1 */
  OPT_NEGFLAG,  /* no value on the command line: sets 0 (--no-plots → plots = false) */
  OPT_MAP,      /* a map name */
  OPT_CMPMAP,   /* a map name for --compare-map (sets compare) */
  OPT_GIBBS,    /* exact | gaussian */
  OPT_RANGE,    /* LO,HI (a [lo, hi] array in config.json) */
  OPT_LRS,      /* rates: list or grid on the command line, one number in config.json */
  OPT_PARAMS,   /* NAME=VALUE, repeatable (an object in config.json) */
  OPT_ONOFF     /* on | off | auto (1, 0, -1); on the command line the value is optional:
                   --lyapunov is --lyapunov=on */
} cgd_opt_type;

enum { OPT_LO_OPEN = 1, OPT_HI_OPEN = 2 };

typedef struct cgd_optdef {
  const char *name;    /* command line: --name */
  const char *key;     /* config.json key; NULL: not recorded */
  cgd_opt_type type;
  size_t offset, size; /* the field in cgd_run_config */
  const char *def;     /* default, as text ("" : none) */
  double lo, hi;       /* accepted range (numbers) */
  int flags;           /* OPT_LO_OPEN, OPT_HI_OPEN */
  unsigned kinds;      /* CGD_KIND_* it applies to */
  int map;             /* applies to this map only (-1: any) */
  const char *group;   /* starts a group in --help */
  const char *metavar, *help;
} cgd_optdef;

const cgd_optdef *cgd_opt_table(size_t *n);
const cgd_optdef *cgd_opt_find(const char *name, const char *key);
size_t cgd_opt_index(const cgd_optdef *d);
/* 1 when the option's "auto" is stored as UINT64_MAX (the burn-ins), else 0 */
int cgd_opt_auto_max(const cgd_optdef *d);
/* Validate and store one value given as text (NULL for a command-line flag). who names the
 * source in messages ("--hidden", or "FILE: \"hidden\""). */
int cgd_opt_set_text(cgd_run_config *c, const cgd_optdef *d, const char *who, const char *s,
                     int src, cgd_error *err);

#endif
