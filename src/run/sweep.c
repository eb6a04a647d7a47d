/* Sweeps (chaosgd/sweep.h): the definition (options and their values), the points, their
 * directory names and configs, the completeness check that makes a sweep resumable,
 * sweep.json, sweep.csv, the phase-diagram script, and the `table` flattening of any
 * run directories. Nothing here runs a point: the tool spreads points over processes. */
#include "chaosgd/sweep.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaosgd/grid.h"
#include "chaosgd/parse.h"
#include "chaosgd/runlog.h"
#include "jsonio.h"
#include "options_internal.h"

#define SW_MAX_POINTS 1000000
#define SW_MAX_VALUES 100000

typedef struct sw_opt {
  const cgd_optdef *d;
  char *given;    /* the text as given (NULL: a flag) */
  size_t n;       /* values (1 for a flag) */
  char **vals;    /* text handed to cgd_run_config_set, one per value (NULL: a flag) */
  char **labels;  /* short form for directory names */
  int is_log;
} sw_opt;

struct cgd_sweep {
  sw_opt opts[CGD_OPT_MAX + CGD_MAX_PARAMS];
  size_t nopts;
  size_t axes[CGD_OPT_MAX]; /* indices into opts of the varied options */
  size_t naxes;
  size_t npoints;
  size_t width; /* digits of the point index in names */
  char command_line[8192];
  /* the rows of the last sweep.csv (npoints × ncols cells, "" = empty) */
  size_t ncols;
  char **cols;
  char **cells;
};

/* ---------------------------------------------------------------- small helpers */

static char *dupstr(const char *s) { return s ? strdup(s) : NULL; }

static int is_flag_type(const cgd_optdef *d) {
  return d->type == OPT_FLAG || d->type == OPT_NEGFLAG;
}
static int is_whole_type(const cgd_optdef *d) {
  return d->type == OPT_U64 || d->type == OPT_AUTO_U64 || d->type == OPT_SEED;
}
static int is_real_type(const cgd_optdef *d) {
  return d->type == OPT_DOUBLE || d->type == OPT_LRS;
}
/* options whose single value holds commas (and colons) are listed with ';' */
static int semicolon_type(const cgd_optdef *d) {
  return d->type == OPT_LAW || d->type == OPT_STEPS || d->type == OPT_RANGE;
}

int cgd_sweep_is_option(const char *name, int *is_flag) {
  const cgd_optdef *d = cgd_opt_find(name, NULL);
  if (!d) return 0;
  if (is_flag) *is_flag = is_flag_type(d);
  return 1;
}

int cgd_sweep_create(cgd_sweep **out, cgd_error *err) {
  *out = calloc(1, sizeof **out);
  return *out ? CGD_OK : cgd_fail(err, CGD_ENOMEM, "out of memory");
}

static void free_cells(cgd_sweep *s) {
  if (s->cells)
    for (size_t i = 0; i < s->npoints * s->ncols; i++) free(s->cells[i]);
  for (size_t j = 0; j < s->ncols; j++) free(s->cols[j]);
  free(s->cells);
  free(s->cols);
  s->cells = NULL;
  s->cols = NULL;
  s->ncols = 0;
}

/* What one varied option owns. */
static void sw_opt_free(sw_opt *o) {
  for (size_t k = 0; k < o->n; k++) {
    if (o->vals) free(o->vals[k]);
    if (o->labels) free(o->labels[k]);
  }
  free(o->vals);
  free(o->labels);
  free(o->given);
}

void cgd_sweep_free(cgd_sweep *s) {
  if (!s) return;
  for (size_t j = 0; j < s->nopts; j++) sw_opt_free(&s->opts[j]);
  free_cells(s);
  free(s);
}

/* Split s at sep into non-empty elements. */
static int split(const char *who, const char *s, char sep, char ***out, size_t *n,
                 cgd_error *err) {
  size_t cap = 1;
  for (const char *p = s; *p; p++) cap += *p == sep;
  if (cap > SW_MAX_VALUES) return cgd_fail(err, CGD_EUSAGE, "%s: at most %d values", who, SW_MAX_VALUES);
  char **v = calloc(cap, sizeof *v);
  if (!v) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  size_t k = 0;
  for (const char *p = s;;) {
    const char *e = strchr(p, sep);
    if (!e) e = p + strlen(p);
    if (e == p) {
      for (size_t i = 0; i < k; i++) free(v[i]);
      free(v);
      return cgd_fail(err, CGD_EUSAGE, "%s: empty element in '%s'", who, s);
    }
    v[k++] = strndup(p, (size_t)(e - p));
    if (!*e) break;
    p = e + 1;
  }
  *out = v;
  *n = k;
  return CGD_OK;
}

/* A value in a directory name: file-name safe, short. */
static void name_safe(const char *s, char *buf, size_t len) {
  size_t k = 0;
  for (; *s && k + 1 < len && k < 24; s++)
    buf[k++] = (char)((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                              (*s >= '0' && *s <= '9') || *s == '.' || *s == '+' || *s == '-'
                          ? *s
                          : '_');
  buf[k] = '\0';
}

/* ---------------------------------------------------------------- the definition */

int cgd_sweep_add(cgd_sweep *s, const char *name, const char *value, cgd_error *err) {
  const cgd_optdef *d = cgd_opt_find(name, NULL);
  char who[80];
  snprintf(who, sizeof who, "--%s", name);
  if (!d) return cgd_fail(err, CGD_EUSAGE, "unknown option %s (see --help)", who);
  if (is_flag_type(d) && value) return cgd_fail(err, CGD_EUSAGE, "%s takes no value", who);
  if (!is_flag_type(d) && !value) return cgd_fail(err, CGD_EUSAGE, "option %s needs a value", who);
  if (d->type != OPT_PARAMS)
    for (size_t j = 0; j < s->nopts; j++)
      if (s->opts[j].d == d)
        return cgd_fail(err, CGD_EUSAGE, "%s is given twice (give a list or grid once)", who);
  if (s->nopts == sizeof s->opts / sizeof *s->opts)
    return cgd_fail(err, CGD_EUSAGE, "%s: too many options", who);
  sw_opt o = {.d = d, .given = dupstr(value)};
  int rc = CGD_OK;
  if (!value) {
    o.n = 1;
  } else if (d->type == OPT_PARAMS) {
    /* NAME=VALUE: one value (a grid would need one axis per name; not supported) */
    o.n = 1;
    o.vals = calloc(1, sizeof *o.vals);
    if (o.vals) o.vals[0] = strdup(value);
  } else if (is_real_type(d) || (is_whole_type(d) && strchr(value, ':'))) {
    double *v = malloc(SW_MAX_VALUES * sizeof *v);
    if (!v) return cgd_fail(err, CGD_ENOMEM, "out of memory");
    rc = cgd_grid_parse(who, value, v, SW_MAX_VALUES, &o.n, err);
    if (!rc) o.vals = calloc(o.n, sizeof *o.vals);
    for (size_t k = 0; !rc && k < o.n; k++) {
      char t[40];
      if (is_real_type(d)) {
        cgd_fmt_double(v[k], t, sizeof t);
      } else {
        /* a grid over a whole-number option must land on whole numbers (a log grid's
         * 31.999999999999996 is 32) */
        double r = nearbyint(v[k]);
        if (!(fabs(v[k] - r) <= 1e-9 * fmax(1.0, fabs(r))) || r < 0 || r > 9007199254740992.0) {
          cgd_fmt_double(v[k], t, sizeof t);
          rc = cgd_fail(err, CGD_EUSAGE, "%s: the grid '%s' gives %s, not a whole number", who,
                        value, t);
          break;
        }
        snprintf(t, sizeof t, "%.0f", r);
      }
      o.vals[k] = strdup(t);
    }
    o.is_log = !rc && strstr(value, ":log:") != NULL;
    free(v);
  } else {
    rc = split(who, value, semicolon_type(d) ? ';' : ',', &o.vals, &o.n, err);
  }
  if (!rc && value && !o.vals) rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
  /* every value through the option table, with its own message */
  cgd_run_config *scratch = rc ? NULL : cgd_run_config_create();
  if (!rc && !scratch) rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
  for (size_t k = 0; !rc && k < o.n; k++) {
    rc = cgd_run_config_set(scratch, name, o.vals ? o.vals[k] : NULL, err);
    for (size_t m = 0; !rc && m < k; m++)
      if (!strcmp(o.vals[m], o.vals[k]))
        rc = cgd_fail(err, CGD_EUSAGE, "%s: value %s is given twice", who, o.vals[k]);
  }
  cgd_run_config_free(scratch);
  if (!rc && o.n > 1 && (d->type == OPT_PARAMS || !strcmp(name, "out") || !strcmp(name, "save-params")))
    rc = cgd_fail(err, CGD_EUSAGE, "%s cannot vary in a sweep", who);
  if (!rc) {
    o.labels = calloc(o.n, sizeof *o.labels);
    for (size_t k = 0; o.labels && k < o.n; k++) {
      char t[64];
      if (!o.vals) snprintf(t, sizeof t, "on");
      else if (is_real_type(d)) snprintf(t, sizeof t, "%.5g", strtod(o.vals[k], NULL));
      else name_safe(o.vals[k], t, sizeof t);
      o.labels[k] = strdup(t);
    }
    if (!o.labels) rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
  }
  s->opts[s->nopts++] = o; /* owned by s from here, freed with it even on error */
  if (rc) sw_opt_free(&s->opts[--s->nopts]); /* keep it out of the definition */
  return rc;
}

size_t cgd_sweep_npoints(const cgd_sweep *s) { return s->npoints; }
size_t cgd_sweep_naxes(const cgd_sweep *s) { return s->naxes; }
const char *cgd_sweep_axis_name(const cgd_sweep *s, size_t a) { return s->opts[s->axes[a]].d->name; }
size_t cgd_sweep_axis_len(const cgd_sweep *s, size_t a) { return s->opts[s->axes[a]].n; }
int cgd_sweep_axis_log(const cgd_sweep *s, size_t a) { return s->opts[s->axes[a]].is_log; }

/* Value index of option j at point i (row-major, last axis fastest). */
static size_t value_index(const cgd_sweep *s, size_t j, size_t i) {
  if (s->opts[j].n == 1) return 0;
  for (size_t a = s->naxes; a-- > 0;) {
    size_t len = s->opts[s->axes[a]].n;
    if (s->axes[a] == j) return i % len;
    i /= len;
  }
  return 0;
}

static int apply_point(const cgd_sweep *s, size_t i, cgd_run_config *c, cgd_error *err) {
  cgd_run_config_defaults(c);
  for (size_t j = 0; j < s->nopts; j++) {
    const sw_opt *o = &s->opts[j];
    int rc = cgd_run_config_set(c, o->d->name, o->vals ? o->vals[value_index(s, j, i)] : NULL, err);
    if (rc) return rc;
  }
  snprintf(c->command_line, sizeof c->command_line, "%s", s->command_line);
  return CGD_OK;
}

int cgd_sweep_finish(cgd_sweep *s, const char *command_line, cgd_error *err) {
  snprintf(s->command_line, sizeof s->command_line, "%s", command_line ? command_line : "");
  s->npoints = 1;
  s->naxes = 0;
  for (size_t j = 0; j < s->nopts; j++) {
    if (s->opts[j].n < 2) continue;
    s->axes[s->naxes++] = j;
    if (s->npoints * s->opts[j].n > SW_MAX_POINTS)
      return cgd_fail(err, CGD_EUSAGE, "the sweep has more than %d points", SW_MAX_POINTS);
    s->npoints *= s->opts[j].n;
  }
  s->width = 4;
  for (size_t m = 10000; m < s->npoints; m *= 10) s->width++;
  cgd_run_config *c = cgd_run_config_create();
  if (!c) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  int first = CGD_OK;
  cgd_error e1 = {{0}}, e;
  size_t nbad = 0;
  for (size_t i = 0; i < s->npoints; i++) {
    int rc = apply_point(s, i, c, &e);
    if (!rc) rc = cgd_run_config_check(c, &e);
    if (rc && !nbad++) {
      first = rc;
      e1 = e;
    }
  }
  cgd_run_config_free(c);
  if (nbad == s->npoints) {
    *err = e1;
    return first;
  }
  return CGD_OK;
}

void cgd_sweep_point_name(const cgd_sweep *s, size_t i, char *buf, size_t len) {
  size_t pos = (size_t)snprintf(buf, len, "p%0*zu", (int)s->width, i);
  for (size_t a = 0; a < s->naxes && pos < len; a++) {
    const sw_opt *o = &s->opts[s->axes[a]];
    pos += (size_t)snprintf(buf + pos, len - pos, "-%s%s", o->d->name,
                            o->labels[value_index(s, s->axes[a], i)]);
  }
}

int cgd_sweep_point_config(const cgd_sweep *s, size_t i, const char *dir, cgd_run_config *c,
                           cgd_error *err) {
  int rc = apply_point(s, i, c, err);
  char name[512];
  cgd_sweep_point_name(s, i, name, sizeof name);
  if (snprintf(c->out, sizeof c->out, "%s/%s", dir, name) >= (int)sizeof c->out)
    return cgd_fail(err, CGD_EUSAGE, "--out: path too long");
  c->force = 1;
  c->quiet = 1;
  c->progress = 0;
  return rc ? rc : cgd_run_config_check(c, err);
}

/* ---------------------------------------------------------------- completeness */

static json_t *load_json(const char *dir, const char *name) {
  char path[8400];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return NULL;
  return json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
}

static const char *jstr(const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* config.json records the point's options: every option key of the point compared (the
 * kind's additions and the software block are not options); an option left at "auto" is
 * accepted whatever it resolved to. */
static int config_matches(const json_t *want, const json_t *have) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)want, k, v) {
    if (!strcmp(k, "command_line") || !strcmp(k, "out")) continue;
    const json_t *h = json_object_get(have, k);
    if (!h) return 0;
    if (json_is_string(v) && !strcmp(json_string_value(v), "auto") &&
        (json_is_integer(h) || json_is_string(h)))
      continue;
    if (!json_equal(v, (json_t *)h)) return 0;
  }
  return 1;
}

int cgd_sweep_point_complete(const cgd_sweep *s, size_t i, const char *dir) {
  char name[512], pdir[8400];
  cgd_sweep_point_name(s, i, name, sizeof name);
  snprintf(pdir, sizeof pdir, "%s/%s", dir, name);
  json_t *sum = load_json(pdir, "summary.json");
  const char *st = jstr(sum, "status"), *plots = jstr(sum, "plots");
  int ok = st && (!strcmp(st, "ok") || !strcmp(st, "diverged")) && plots &&
           strcmp(plots, "pending") != 0;
  json_decref(sum);
  if (!ok) return 0;
  cgd_run_config *c = cgd_run_config_create();
  cgd_error e;
  json_t *have = load_json(pdir, "config.json"), *want = NULL;
  if (c && !cgd_sweep_point_config(s, i, dir, c, &e)) want = cgd_run_config_json(c);
  ok = have && want && config_matches(want, have);
  json_decref(have);
  json_decref(want);
  cgd_run_config_free(c);
  return ok;
}

int cgd_sweep_point_fail(const char *point_dir, int status, const char *message, int clear,
                         cgd_error *err) {
  int rc = cgd_mkdir_p(point_dir, err);
  if (!rc && clear) rc = cgd_run_dir_clear(point_dir, err);
  if (rc) return rc;
  json_t *doc = json_object();
  json_object_set_new(doc, "verdict", json_string("none"));
  json_object_set_new(doc, "status", json_string(cgd_status_name(status)));
  json_object_set_new(doc, "message", json_string(message));
  json_object_set_new(doc, "interrupted", json_false());
  json_object_set_new(doc, "diverged_step", json_null());
  json_object_set_new(doc, "steps_completed", json_integer(0));
  json_object_set_new(doc, "plots", json_string("off"));
  json_object_set_new(doc, "written_by", json_string("sweep: the point failed before its run wrote a summary"));
  rc = cgd_json_write(point_dir, "summary.json", doc, err);
  json_decref(doc);
  return rc;
}

/* ---------------------------------------------------------------- sweep.json */

static json_t *definition_json(const cgd_sweep *s) {
  json_t *opts = json_array();
  for (size_t j = 0; j < s->nopts; j++) {
    const sw_opt *o = &s->opts[j];
    json_t *oj = json_object(), *vals = json_array();
    json_object_set_new(oj, "option", json_string(o->d->name));
    json_object_set_new(oj, "given", o->given ? json_string(o->given) : json_null());
    for (size_t k = 0; o->vals && k < o->n; k++) json_array_append_new(vals, json_string(o->vals[k]));
    json_object_set_new(oj, "values", vals);
    json_object_set_new(oj, "log", json_boolean(o->is_log));
    json_array_append_new(opts, oj);
  }
  json_t *def = json_object();
  json_object_set_new(def, "options", opts);
  json_object_set_new(def, "order", json_string("row-major: the last varied option varies fastest"));
  return def;
}

static void remove_quiet(const char *dir, const char *name) {
  char path[8400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  remove(path);
}

static const char *const SWEEP_FILES[] = {"sweep.csv", "sweep.gp", "sweep.log", "sweep_map.dat",
                                          "sweep_bands.csv", "phase.png", "bands.png", NULL};

int cgd_sweep_prepare_dir(cgd_sweep *s, const char *dir, int force, cgd_error *err) {
  int rc = cgd_mkdir_p(dir, err);
  if (rc) return rc;
  char path[8400];
  static const char *const marks[] = {"config.json", "summary.json", "comparison.json"};
  for (size_t m = 0; m < 3; m++) {
    snprintf(path, sizeof path, "%s/%s", dir, marks[m]);
    if (access(path, F_OK) == 0) {
      if (!force)
        return cgd_fail(err, CGD_EIO, "%s holds a run, not a sweep: give another --out, or "
                        "--force to replace its run files", dir);
      if ((rc = cgd_run_dir_clear(dir, err))) return rc;
    }
  }
  json_t *def = definition_json(s);
  json_t *old = load_json(dir, "sweep.json");
  snprintf(path, sizeof path, "%s/sweep.json", dir);
  if (!old && access(path, F_OK) == 0 && !force) {
    json_decref(def);
    return cgd_fail(err, CGD_EIO, "%s: cannot read it as a sweep: give another --out, or "
                    "--force to replace it", path);
  }
  if (old && !json_equal(json_object_get(old, "definition"), def)) {
    if (!force) {
      json_decref(old);
      json_decref(def);
      return cgd_fail(err, CGD_EIO, "%s holds a different sweep (its sweep.json): give another "
                      "--out, or --force to replace it", dir);
    }
    /* replace the other sweep: its points and files go (point directories keep any
     * file a run does not write, and then stay) */
    json_t *names = json_object_get(old, "points");
    for (size_t k = 0; k < json_array_size(names); k++) {
      const char *nm = json_string_value(json_array_get(names, k));
      if (!nm || strchr(nm, '/') || nm[0] == '.') continue;
      snprintf(path, sizeof path, "%s/%s", dir, nm);
      cgd_error e;
      if (!cgd_run_dir_clear(path, &e)) rmdir(path);
    }
    for (size_t k = 0; SWEEP_FILES[k]; k++) remove_quiet(dir, SWEEP_FILES[k]);
  }
  json_decref(old);
  json_t *doc = json_object(), *names = json_array();
  json_object_set_new(doc, "sweep_version", json_integer(1));
  json_object_set_new(doc, "definition", def);
  json_object_set_new(doc, "npoints", json_integer((json_int_t)s->npoints));
  json_t *axes = json_array();
  for (size_t a = 0; a < s->naxes; a++) json_array_append_new(axes, json_string(cgd_sweep_axis_name(s, a)));
  json_object_set_new(doc, "varied", axes);
  for (size_t i = 0; i < s->npoints; i++) {
    char nm[512];
    cgd_sweep_point_name(s, i, nm, sizeof nm);
    json_array_append_new(names, json_string(nm));
  }
  json_object_set_new(doc, "points", names);
  json_object_set_new(doc, "command_line", json_string(s->command_line));
  rc = cgd_json_write(dir, "sweep.json", doc, err);
  json_decref(doc);
  return rc;
}

/* ---------------------------------------------------------------- rows */

/* A JSON scalar as a CSV cell: shortest round-trip reals, integers, text; null → "". */
static char *cell_of(const json_t *v) {
  char buf[64];
  switch (v ? json_typeof(v) : JSON_NULL) {
  case JSON_REAL: return strdup(cgd_fmt_double(json_real_value(v), buf, sizeof buf));
  case JSON_INTEGER:
    snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return strdup(buf);
  case JSON_STRING: return strdup(json_string_value(v));
  case JSON_TRUE: return strdup("true");
  case JSON_FALSE: return strdup("false");
  case JSON_ARRAY: {
    /* arrays of scalars joined with ';' (e.g. gibbs.range) */
    size_t cap = 1, n = json_array_size(v);
    char **parts = calloc(n ? n : 1, sizeof *parts);
    for (size_t k = 0; parts && k < n; k++) {
      parts[k] = cell_of(json_array_get(v, k));
      cap += (parts[k] ? strlen(parts[k]) : 0) + 1;
    }
    char *s = malloc(cap);
    if (s) s[0] = '\0';
    for (size_t k = 0; parts && k < n; k++) {
      if (s && parts[k]) {
        if (k) strcat(s, ";");
        strcat(s, parts[k]);
      }
      free(parts[k]);
    }
    free(parts);
    return s;
  }
  default: return strdup("");
  }
}

static void csv_cell(FILE *fp, const char *s) {
  if (!strpbrk(s, ",\"\n\r")) {
    fputs(s, fp);
    return;
  }
  fputc('"', fp);
  for (; *s; s++) {
    if (*s == '"') fputc('"', fp);
    fputc(*s == '\n' || *s == '\r' ? ' ' : *s, fp);
  }
  fputc('"', fp);
}

/* Column names of the scalars of object o under prefix, appended (if new) to a growing
 * list; values are looked up by the same dotted path. */
typedef struct strlist {
  char **v;
  size_t n, cap;
} strlist;

static int strlist_find(const strlist *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i], s)) return (int)i;
  return -1;
}
static int strlist_add(strlist *l, const char *s) {
  if (strlist_find(l, s) >= 0) return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 32;
    char **v = realloc(l->v, cap * sizeof *v);
    if (!v) return -1;
    l->v = v;
    l->cap = cap;
  }
  return (l->v[l->n++] = strdup(s)) ? 0 : -1;
}
static void strlist_free(strlist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static void flatten_keys(const json_t *o, const char *prefix, strlist *l) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)o, k, v) {
    char key[512];
    snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", k);
    if (json_is_object(v)) flatten_keys(v, key, l);
    else strlist_add(l, key);
  }
}

/* The value at a dotted path ("tail.loss_mean"), NULL if absent. */
static const json_t *json_path(const json_t *o, const char *path) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", path);
  char *p = buf;
  for (;;) {
    char *dot = strchr(p, '.');
    if (dot) *dot = '\0';
    o = json_object_get(o, p);
    if (!o || !dot) return o;
    p = dot + 1;
  }
}

/* the tail statistic whatever the series is called (loss_mean, f_mean) */
static const json_t *tail_stat(const json_t *sum, const char *stat) {
  const json_t *t = json_object_get(sum, "tail");
  char key[64];
  snprintf(key, sizeof key, "loss_%s", stat);
  const json_t *v = json_object_get(t, key);
  if (v) return v;
  snprintf(key, sizeof key, "f_%s", stat);
  return json_object_get(t, key);
}

static const json_t *final_value(const json_t *sum) {
  const json_t *v = json_object_get(sum, "final_loss");
  return v ? v : json_object_get(sum, "final_f");
}

enum { C_STATUS, C_VERDICT, C_PERIOD, C_STEPS, C_DIVSTEP, C_FINAL, C_TMEAN, C_TSTD, C_TREL,
       C_TFRAC, C_FIRSTINC, C_GIBBS, C_LYAP, C_LYAPSE, C_NFIXED };
static const char *const FIXED_COLS[C_NFIXED] = {
    "status", "verdict", "period", "steps", "diverged_step", "final_value", "tail_mean",
    "tail_std", "tail_rel_std", "tail_frac_increase", "first_increase_step", "gibbs_tv",
    "lyapunov.lambda", "lyapunov.stderr"};

int cgd_sweep_write_csv(cgd_sweep *s, const char *dir, cgd_sweep_counts *counts,
                        cgd_error *err) {
  free_cells(s);
  memset(counts, 0, sizeof *counts);
  json_t **sums = calloc(s->npoints ? s->npoints : 1, sizeof *sums);
  if (!sums) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  strlist sharp = {0};
  char name[512], pdir[8400];
  for (size_t i = 0; i < s->npoints; i++) {
    cgd_sweep_point_name(s, i, name, sizeof name);
    snprintf(pdir, sizeof pdir, "%s/%s", dir, name);
    sums[i] = load_json(pdir, "summary.json");
    const json_t *sh = json_object_get(sums[i], "sharpness");
    if (json_is_object(sh)) flatten_keys(sh, "sharpness", &sharp);
  }
  s->ncols = s->naxes + C_NFIXED + sharp.n + 2;
  s->cols = calloc(s->ncols, sizeof *s->cols);
  s->cells = calloc(s->ncols * (s->npoints ? s->npoints : 1), sizeof *s->cells);
  int rc = s->cols && s->cells ? CGD_OK : cgd_fail(err, CGD_ENOMEM, "out of memory");
  if (!rc) {
    size_t c = 0;
    for (size_t a = 0; a < s->naxes; a++) s->cols[c++] = strdup(cgd_sweep_axis_name(s, a));
    for (size_t k = 0; k < C_NFIXED; k++) s->cols[c++] = strdup(FIXED_COLS[k]);
    for (size_t k = 0; k < sharp.n; k++) s->cols[c++] = strdup(sharp.v[k]);
    s->cols[c++] = strdup("run_dir");
    s->cols[c++] = strdup("message");
  }
  for (size_t i = 0; !rc && i < s->npoints; i++) {
    const json_t *sum = sums[i];
    char **row = s->cells + i * s->ncols;
    size_t c = 0;
    for (size_t a = 0; a < s->naxes; a++)
      row[c++] = strdup(s->opts[s->axes[a]].vals[value_index(s, s->axes[a], i)]);
    const char *st = jstr(sum, "status");
    if (!st) st = "pending";
    if (!strcmp(st, "ok")) counts->ok++;
    else if (!strcmp(st, "diverged")) counts->diverged++;
    else if (!strcmp(st, "interrupted")) counts->interrupted++;
    else if (!strcmp(st, "pending")) counts->pending++;
    else counts->failed++;
    const json_t *vals[C_NFIXED] = {
        NULL, json_object_get(sum, "verdict"), json_path(sum, "tail.period"),
        json_object_get(sum, "steps_completed"), json_object_get(sum, "diverged_step"),
        final_value(sum), tail_stat(sum, "mean"), tail_stat(sum, "std"), tail_stat(sum, "rel_std"),
        json_path(sum, "tail.frac_increase"), json_object_get(sum, "first_increase_step"),
        json_path(sum, "gibbs.tv"), json_path(sum, "lyapunov.lambda"),
        json_path(sum, "lyapunov.stderr")};
    row[c++] = strdup(st);
    for (size_t k = 1; k < C_NFIXED; k++) row[c++] = cell_of(vals[k]);
    for (size_t k = 0; k < sharp.n; k++) row[c++] = cell_of(json_path(sum, sharp.v[k]));
    cgd_sweep_point_name(s, i, name, sizeof name);
    row[c++] = strdup(name);
    row[c++] = cell_of(json_object_get(sum, "message"));
    for (size_t k = 0; k < s->ncols; k++)
      if (!row[k]) rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < s->npoints; i++) json_decref(sums[i]);
  free(sums);
  strlist_free(&sharp);
  if (rc) return rc;
  cgd_outfile f;
  if ((rc = cgd_outfile_open(&f, dir, "sweep.csv", err))) return rc;
  for (size_t c = 0; c < s->ncols; c++) {
    if (c) fputc(',', f.fp);
    csv_cell(f.fp, s->cols[c]);
  }
  fputc('\n', f.fp);
  for (size_t i = 0; i < s->npoints; i++) {
    for (size_t c = 0; c < s->ncols; c++) {
      if (c) fputc(',', f.fp);
      csv_cell(f.fp, s->cells[i * s->ncols + c]);
    }
    fputc('\n', f.fp);
  }
  return cgd_outfile_commit(&f, err);
}

/* ---------------------------------------------------------------- figures */

static int col_index(const cgd_sweep *s, const char *name) {
  for (size_t c = 0; c < s->ncols; c++)
    if (!strcmp(s->cols[c], name)) return (int)c;
  return -1;
}

static int axis_of(const cgd_sweep *s, const char *name) {
  for (size_t a = 0; a < s->naxes; a++)
    if (!strcmp(cgd_sweep_axis_name(s, a), name)) return (int)a;
  return -1;
}

/* Verdict as a number for the heat map: the period-doubling route gets its own colours. */
static int verdict_code(const char *verdict, const char *period, const char *status) {
  if (strcmp(status, "ok") && strcmp(status, "diverged")) return 8;
  if (!strcmp(verdict, "converged")) return 0;
  if (!strcmp(verdict, "periodic")) {
    long p = strtol(period, NULL, 10);
    return p == 2 ? 1 : p == 4 ? 2 : 3;
  }
  if (!strcmp(verdict, "chaotic")) return 4;
  if (!strcmp(verdict, "descending")) return 5;
  if (!strcmp(verdict, "fluctuating")) return 6;
  if (!strcmp(verdict, "diverged")) return 7;
  return 8;
}

static double num_cell(const char *s) {
  double v;
  return *s && !cgd_parse_double(s, &v) ? v : NAN;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The f1 of the sweep if fixed ("sin" by default), for the theory line. */
static const char *fixed_value(const cgd_sweep *s, const char *name, const char *def) {
  for (size_t j = 0; j < s->nopts; j++)
    if (!strcmp(s->opts[j].d->name, name)) return s->opts[j].n == 1 && s->opts[j].vals ? s->opts[j].vals[0] : NULL;
  return def;
}

/* sweep_map.dat: x y code tail_stat lambda over the x × y grid, the other varied options
 * at their first value; scan lines (y fixed) separated by blank lines, as `with image`
 * wants them. */
static int write_map(const cgd_sweep *s, const char *dir, int ax, int ay, int *have_lambda,
                     cgd_error *err) {
  cgd_outfile f;
  int rc = cgd_outfile_open(&f, dir, "sweep_map.dat", err);
  if (rc) return rc;
  const int cv = col_index(s, "verdict"), cp = col_index(s, "period"),
            cs = col_index(s, "status"), ct = col_index(s, "tail_rel_std"),
            cl = col_index(s, "lyapunov.lambda");
  const size_t jx = s->axes[ax], jy = s->axes[ay];
  const int lx = s->opts[jx].is_log, ly = s->opts[jy].is_log;
  *have_lambda = 0;
  fprintf(f.fp, "# x y verdict_code log10_tail_rel_std lambda\n");
  for (size_t iy = 0; iy < s->opts[jy].n; iy++) {
    for (size_t ix = 0; ix < s->opts[jx].n; ix++) {
      size_t i = 0;
      for (size_t i2 = 0; i2 < s->npoints; i2++) {
        int other_first = 1;
        for (size_t a = 0; a < s->naxes; a++)
          if ((int)a != ax && (int)a != ay && value_index(s, s->axes[a], i2)) other_first = 0;
        if (other_first && value_index(s, jx, i2) == ix && value_index(s, jy, i2) == iy) {
          i = i2;
          break;
        }
      }
      char **row = s->cells + i * s->ncols;
      double x = strtod(s->opts[jx].vals[ix], NULL), y = strtod(s->opts[jy].vals[iy], NULL);
      double t = num_cell(row[ct]), l = cl >= 0 ? num_cell(row[cl]) : NAN;
      if (isfinite(l)) *have_lambda = 1;
      fprintf(f.fp, "%.17g %.17g %d ", lx ? log10(x) : x, ly ? log10(y) : y,
              verdict_code(row[cv], row[cp], row[cs]));
      if (t > 0 && isfinite(t)) fprintf(f.fp, "%.6g ", log10(t));
      else fprintf(f.fp, "NaN ");
      if (isfinite(l)) fprintf(f.fp, "%.6g\n", l);
      else fprintf(f.fp, "NaN\n");
    }
    fputc('\n', f.fp);
  }
  return cgd_outfile_commit(&f, err);
}

/* sweep_bands.csv: per value of x, over every other option (seeds): count, diverged,
 * min/median/max of the tail statistics and the first rising step. */
static int write_bands(const cgd_sweep *s, const char *dir, int ax, int have[4], cgd_error *err) {
  static const char *const stats[] = {"tail_mean", "tail_rel_std", "tail_frac_increase",
                                      "first_increase_step"};
  cgd_outfile f;
  int rc = cgd_outfile_open(&f, dir, "sweep_bands.csv", err);
  if (rc) return rc;
  const size_t jx = s->axes[ax];
  double *buf = malloc((s->npoints + 1) * sizeof *buf);
  if (!buf) {
    cgd_outfile_discard(&f);
    return cgd_fail(err, CGD_ENOMEM, "out of memory");
  }
  fprintf(f.fp, "x,n,diverged");
  for (size_t k = 0; k < 4; k++) fprintf(f.fp, ",%s_min,%s_median,%s_max", stats[k], stats[k], stats[k]);
  fputc('\n', f.fp);
  const int cv = col_index(s, "verdict");
  for (size_t ix = 0; ix < s->opts[jx].n; ix++) {
    size_t n = 0, ndiv = 0;
    for (size_t i = 0; i < s->npoints; i++)
      if (value_index(s, jx, i) == ix) {
        n++;
        ndiv += !strcmp(s->cells[i * s->ncols + cv], "diverged");
      }
    fprintf(f.fp, "%s,%zu,%zu", s->opts[jx].vals[ix], n, ndiv);
    for (size_t k = 0; k < 4; k++) {
      int c = col_index(s, stats[k]);
      size_t m = 0;
      for (size_t i = 0; i < s->npoints; i++)
        if (value_index(s, jx, i) == ix) {
          double v = num_cell(s->cells[i * s->ncols + c]);
          if (isfinite(v)) buf[m++] = v;
        }
      if (!m) {
        fprintf(f.fp, ",,,");
        continue;
      }
      have[k] = 1;
      qsort(buf, m, sizeof *buf, cmp_double);
      double med = m % 2 ? buf[m / 2] : 0.5 * (buf[m / 2 - 1] + buf[m / 2]);
      fprintf(f.fp, ",%.9g,%.9g,%.9g", buf[0], med, buf[m - 1]);
    }
    fputc('\n', f.fp);
  }
  free(buf);
  return cgd_outfile_commit(&f, err);
}

/* The η × ε (or any two options) phase diagram: verdict, tail spread and λ as images, with
 * the theory line of Kong & Tao where it applies. */
static void plot_phase(FILE *fp, const cgd_sweep *s, int ax, int ay, int have_lambda, char *pngs,
                       size_t plen) {
  const char *xn = cgd_sweep_axis_name(s, (size_t)ax);
  const int xlog = cgd_sweep_axis_log(s, (size_t)ax);
  const char *yn = cgd_sweep_axis_name(s, (size_t)ay);
  const int ylog = cgd_sweep_axis_log(s, (size_t)ay);
  const char *f1 = fixed_value(s, "f1", "sin");
  int theory = ((!strcmp(xn, "lr") && !strcmp(yn, "eps")) || (!strcmp(xn, "eps") && !strcmp(yn, "lr"))) &&
               xlog && ylog && f1 && (!strcmp(f1, "sin") || !strcmp(f1, "negcos"));
  int panels = 2 + have_lambda;
  fprintf(fp,
          "set terminal pngcairo size %d,520 font ',10'\nset output 'phase.png'\n"
          "set multiplot layout 1,%d\n"
          "set xlabel '%s%s%s'\nset ylabel '%s%s%s'\n"
          "",
          560 * panels, panels, xlog ? "log10 " : "", xn, "", ylog ? "log10 " : "", yn, "");
  fprintf(fp,
          "set title 'verdict'\n"
          "set palette defined (0 '#2166ac', 1 '#5aae61', 2 '#a6dba0', 3 '#1b7837', 4 '#d6604d', "
          "5 '#fee08b', 6 '#f4a582', 7 '#000000', 8 '#bbbbbb')\n"
          /* nine flat colours, one per code, each code in the middle of its bin */
          "set palette maxcolors 9\nset cbrange [-0.5:8.5]\n"
          "set cbtics ('converged' 0, 'period 2' 1, 'period 4' 2, 'other period' 3, 'chaotic' 4, "
          "'descending' 5, 'fluctuating' 6, 'diverged' 7, 'failed' 8)\n");
  /* the chaos boundary of Kong & Tao: lambda = m + ln(eta/eps) > 0 with m = E ln|sin| =
   * -ln 2 for f1 = sin, i.e. eta = 2 eps */
  const char *line = "";
  char lbuf[256];
  if (theory) {
    snprintf(lbuf, sizeof lbuf, ", %s w l lw 2 dt 2 lc rgb 'white' t 'theory: {/Symbol h} = e^{-m}{/Symbol e} = 2{/Symbol e}'",
             !strcmp(xn, "lr") ? "x - log10(2)" : "x + log10(2)");
    line = lbuf;
  }
  /* the image's pixels are centred on the grid values: show them whole */
  double r[2][2];
  for (int k = 0; k < 2; k++) {
    const sw_opt *o = &s->opts[s->axes[k ? ay : ax]];
    double a = strtod(o->vals[0], NULL), b = strtod(o->vals[o->n - 1], NULL);
    if (o->is_log) a = log10(a), b = log10(b);
    double h = 0.5 * fabs(b - a) / (double)(o->n - 1);
    r[k][0] = fmin(a, b) - h;
    r[k][1] = fmax(a, b) + h;
  }
  fprintf(fp, "set xrange [%.9g:%.9g]\nset yrange [%.9g:%.9g]\n", r[0][0], r[0][1], r[1][0], r[1][1]);
  fprintf(fp, "set key below\n");
  fprintf(fp, "plot 'sweep_map.dat' u 1:2:3 w image notitle%s\n", line);
  fprintf(fp, "unset cbtics\nset cbtics auto\nset palette rgb 33,13,10\nset palette maxcolors 0\nset cbrange [*:*]\n"
              "set title 'log10 tail rel. std (tail std / |tail mean|)'\n"
              "plot 'sweep_map.dat' u 1:2:4 w image notitle%s\n", line);
  if (have_lambda)
    fprintf(fp, "set title 'Lyapunov exponent {/Symbol l}'\nset palette defined (-1 'blue', 0 'white', 1 'red')\n"
                "plot 'sweep_map.dat' u 1:2:5 w image notitle%s\n", line);
  fprintf(fp, "unset multiplot\n");
  snprintf(pngs, plen, "phase.png");
}

/* Statistics against one option, the others (seeds) as bands. */
static void plot_bands(FILE *fp, const cgd_sweep *s, int ax, const int *have, char *pngs,
                       size_t plen) {
  const char *xn = cgd_sweep_axis_name(s, (size_t)ax);
  const int xlog = cgd_sweep_axis_log(s, (size_t)ax);
  fprintf(fp,
          "reset\nset terminal pngcairo size 1200,800 font ',10'\nset output 'bands.png'\n"
          "set datafile separator ','\nset key autotitle columnhead\n"
          "set multiplot layout 2,2 title 'median over the other options (line) and their range (band)'\n"
          "%sset xlabel '%s'\nset grid\n",
          xlog ? "set logscale x\n" : "", xn);
  {
    /* every panel over the whole axis, whatever a statistic leaves undefined */
    const sw_opt *o = &s->opts[s->axes[ax]];
    double a = strtod(o->vals[0], NULL), b = strtod(o->vals[o->n - 1], NULL);
    fprintf(fp, "set xrange [%.9g:%.9g]\n", fmin(a, b), fmax(a, b));
  }
  static const char *const title[] = {"tail mean", "tail rel. std", "share of rising steps in the tail",
                                      "first rising step"};
  for (int k = 0; k < 4; k++) {
    int c0 = 4 + 3 * k; /* columns: x n diverged, then min median max per statistic */
    fprintf(fp, "set title '%s'\n%s", title[k], k != 2 ? "set logscale y\n" : "unset logscale y\n");
    if (!have[k]) {
      /* nothing defined (e.g. no step ever rose): an empty panel that says so, since
       * gnuplot stops the whole script on a plot without points */
      fprintf(fp, "unset logscale y\nset yrange [0:1]\nset label 1 'undefined at every point' at graph 0.5,0.5 center\n"
                  "plot -1 notitle\nunset label 1\nset yrange [*:*]\n");
      continue;
    }
    fprintf(fp, "plot 'sweep_bands.csv' u 1:%d:%d w filledcurves fc rgb '#9ecae1' fs solid 0.5 notitle, "
                "'' u 1:%d w lp pt 7 ps 0.5 lc rgb '#08519c' notitle\n",
            c0, c0 + 2, c0 + 1);
  }
  fprintf(fp, "unset multiplot\n");
  snprintf(pngs + strlen(pngs), plen - strlen(pngs), "%sbands.png", pngs[0] ? " " : "");
}

void cgd_sweep_plot(const cgd_sweep *s, const char *dir, const char *x, const char *y,
                    char *msg, size_t len) {
  cgd_error e;
  if (!s->cells || !s->naxes) {
    snprintf(msg, len, "none: no varied option");
    return;
  }
  int ax = x ? axis_of(s, x) : -1, ay = y ? axis_of(s, y) : -1;
  if ((x && ax < 0) || (y && ay < 0)) {
    snprintf(msg, len, "none: --plot-%s %s is not a varied option", x && ax < 0 ? "x" : "y",
             x && ax < 0 ? x : y);
    return;
  }
  int seed_axis = axis_of(s, "seed");
  /* defaults: the first varied option (not the seed) across, the next one up */
  for (size_t a = 0; ax < 0 && a < s->naxes; a++)
    if ((int)a != seed_axis) ax = (int)a;
  if (ax < 0) ax = 0;
  for (size_t a = 0; !y && ay < 0 && a < s->naxes; a++)
    if ((int)a != ax && (int)a != seed_axis) ay = (int)a;
  if (ay == ax) ay = -1;
  int have_lambda = 0;
  if (ay >= 0 && write_map(s, dir, ax, ay, &have_lambda, &e)) {
    snprintf(msg, len, "failed: %.480s", e.msg);
    return;
  }
  int bands = ay < 0 || seed_axis >= 0, have[4] = {0, 0, 0, 0};
  if (bands && write_bands(s, dir, ax, have, &e)) {
    snprintf(msg, len, "failed: %.480s", e.msg);
    return;
  }
  cgd_outfile gp;
  if (cgd_outfile_open(&gp, dir, "sweep.gp", &e)) {
    snprintf(msg, len, "failed: %.480s", e.msg);
    return;
  }
  FILE *fp = gp.fp;
  char pngs[128] = "";
  fprintf(fp, "# phase diagrams of this sweep (edit and re-run: gnuplot sweep.gp)\n");
  if (ay >= 0) plot_phase(fp, s, ax, ay, have_lambda, pngs, sizeof pngs);
  if (bands) plot_bands(fp, s, ax, have, pngs, sizeof pngs);
  int skipped = 0;
  if (cgd_gnuplot_script(&gp, dir, "sweep.gp", &skipped, &e))
    snprintf(msg, len, "failed: %.480s", e.msg);
  else
    snprintf(msg, len, "%s", skipped ? "skipped (no gnuplot)" : pngs);
}

/* ---------------------------------------------------------------- table */

static int has_file(const char *dir, const char *name) {
  char path[8400];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return 0;
  return access(path, F_OK) == 0;
}

static int add_runs(const char *path, strlist *runs, cgd_error *err) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return cgd_fail(err, CGD_EDATA, "%s: not a directory", path);
  if (has_file(path, "summary.json")) return strlist_add(runs, path) ? cgd_fail(err, CGD_ENOMEM, "out of memory") : CGD_OK;
  struct dirent **ents;
  int n = scandir(path, &ents, NULL, alphasort), found = 0;
  if (n < 0) return cgd_fail(err, CGD_EDATA, "%s: cannot list: %s", path, strerror(errno));
  for (int i = 0; i < n; i++) {
    char sub[8400];
    snprintf(sub, sizeof sub, "%s/%s", path, ents[i]->d_name);
    if (ents[i]->d_name[0] != '.' && has_file(sub, "summary.json")) {
      strlist_add(runs, sub);
      found = 1;
    }
    free(ents[i]);
  }
  free(ents);
  return found ? CGD_OK : cgd_fail(err, CGD_EDATA, "%s holds no run (no summary.json in it or its subdirectories)", path);
}

int cgd_table_write(const char *const *paths, size_t n, FILE *out, cgd_error *err) {
  strlist runs = {0}, ckeys = {0}, skeys = {0};
  int rc = CGD_OK;
  for (size_t i = 0; i < n && !rc; i++) rc = add_runs(paths[i], &runs, err);
  json_t **sums = NULL, **confs = NULL;
  if (!rc) {
    sums = calloc(runs.n + 1, sizeof *sums);
    confs = calloc(runs.n + 1, sizeof *confs);
    if (!sums || !confs) rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
  }
  for (size_t r = 0; !rc && r < runs.n; r++) {
    json_error_t je;
    char path[8400];
    snprintf(path, sizeof path, "%s/summary.json", runs.v[r]);
    if (!(sums[r] = json_load_file(path, 0, &je)) || !json_is_object(sums[r]))
      rc = cgd_fail(err, CGD_EDATA, "%s line %d: %s", path, je.line, je.text);
    else {
      confs[r] = load_json(runs.v[r], "config.json"); /* may be absent (a failed point) */
      flatten_keys(sums[r], "", &skeys);
    }
  }
  /* config options that differ between runs, plus lr and seed (top-level scalars only:
   * the recorded dataset, model and software blocks are not options) */
  strlist_add(&ckeys, "lr");
  strlist_add(&ckeys, "seed");
  for (size_t r = 0; !rc && r < runs.n; r++) {
    const char *k;
    json_t *v;
    json_object_foreach(confs[r], k, v) {
      if (json_is_object(v) || !strcmp(k, "command_line") || !strcmp(k, "out") || !strcmp(k, "kind"))
        continue;
      for (size_t q = 0; q < runs.n; q++) {
        const json_t *w = json_object_get(confs[q], k);
        if (!w || !json_equal(v, (json_t *)w)) {
          strlist_add(&ckeys, k);
          break;
        }
      }
    }
  }
  if (!rc) {
    fprintf(out, "run_dir,kind");
    for (size_t k = 0; k < ckeys.n; k++) {
      fputc(',', out);
      csv_cell(out, ckeys.v[k]);
    }
    for (size_t k = 0; k < skeys.n; k++) {
      fputc(',', out);
      csv_cell(out, skeys.v[k]);
    }
    fputc('\n', out);
    for (size_t r = 0; r < runs.n; r++) {
      csv_cell(out, runs.v[r]);
      fputc(',', out);
      char *c = cell_of(json_object_get(confs[r], "kind"));
      csv_cell(out, c ? c : "");
      free(c);
      for (size_t k = 0; k < ckeys.n; k++) {
        fputc(',', out);
        c = cell_of(json_object_get(confs[r], ckeys.v[k]));
        csv_cell(out, c ? c : "");
        free(c);
      }
      for (size_t k = 0; k < skeys.n; k++) {
        fputc(',', out);
        c = cell_of(json_path(sums[r], skeys.v[k]));
        csv_cell(out, c ? c : "");
        free(c);
      }
      fputc('\n', out);
    }
    if (ferror(out)) rc = cgd_fail(err, CGD_EIO, "error writing the table: %s", strerror(errno));
  }
  for (size_t r = 0; sums && r < runs.n; r++) {
    json_decref(sums[r]);
    json_decref(confs[r]);
  }
  free(sums);
  free(confs);
  strlist_free(&runs);
  strlist_free(&ckeys);
  strlist_free(&skeys);
  return rc;
}
