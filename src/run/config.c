/* config.json: written from the option table, read back strictly through the same
 * validation as the command line (options.c). Also the run's JSON writer. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaosgd/runlog.h"
#include "jsonio.h"
#include "options_internal.h"

/* ---------------------------------------------------------------- writing JSON */

json_t *cgd_jreal(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *cgd_jarray(const double *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, cgd_jreal(v[i]));
  return a;
}

static int is_scalar_array(const json_t *a) {
  for (size_t i = 0; i < json_array_size(a); i++) {
    const json_t *e = json_array_get(a, i);
    if (json_is_object(e) || json_is_array(e)) return 0;
  }
  return 1;
}

static int dump(const json_t *j, FILE *fp, int depth) {
  char buf[40];
  switch (json_typeof(j)) {
  case JSON_OBJECT: {
    const char *key;
    const json_t *v;
    int first = 1;
    fputc('{', fp);
    json_object_foreach((json_t *)j, key, v) {
      json_t *ks = json_string(key);
      char *ke = json_dumps(ks, JSON_ENCODE_ANY);
      json_decref(ks);
      if (!ke) return -1;
      fprintf(fp, "%s\n%*s%s: ", first ? "" : ",", 2 * (depth + 1), "", ke);
      free(ke);
      if (dump(v, fp, depth + 1)) return -1;
      first = 0;
    }
    if (!first) fprintf(fp, "\n%*s", 2 * depth, "");
    fputc('}', fp);
    break;
  }
  case JSON_ARRAY: {
    size_t n = json_array_size(j);
    int flat = is_scalar_array(j);
    fputc('[', fp);
    for (size_t i = 0; i < n; i++) {
      if (flat) fputs(i ? ", " : "", fp);
      else fprintf(fp, "%s\n%*s", i ? "," : "", 2 * (depth + 1), "");
      if (dump(json_array_get(j, i), fp, depth + 1)) return -1;
    }
    if (!flat && n) fprintf(fp, "\n%*s", 2 * depth, "");
    fputc(']', fp);
    break;
  }
  case JSON_REAL: {
    double v = json_real_value(j);
    cgd_fmt_double(v, buf, sizeof buf);
    /* keep it a JSON real: 1 → 1.0, so readers see the type that was written */
    if (!strpbrk(buf, ".eEn")) strcat(buf, ".0");
    fputs(buf, fp);
    break;
  }
  case JSON_INTEGER: fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(j)); break;
  case JSON_STRING: {
    char *s = json_dumps(j, JSON_ENCODE_ANY);
    if (!s) return -1;
    fputs(s, fp);
    free(s);
    break;
  }
  case JSON_TRUE: fputs("true", fp); break;
  case JSON_FALSE: fputs("false", fp); break;
  case JSON_NULL: fputs("null", fp); break;
  }
  return ferror(fp) ? -1 : 0;
}

int cgd_json_dump(const json_t *doc, FILE *fp) {
  if (dump(doc, fp, 0) || fputc('\n', fp) == EOF) return -1;
  return 0;
}

int cgd_json_write(const char *dir, const char *name, const json_t *doc, cgd_error *err) {
  cgd_outfile f;
  int rc = cgd_outfile_open(&f, dir, name, err);
  if (rc) return rc;
  if (cgd_json_dump(doc, f.fp)) {
    int e = errno;
    cgd_outfile_discard(&f);
    return cgd_fail(err, CGD_EIO, "error writing %s/%s: %s", dir, name, strerror(e));
  }
  return cgd_outfile_commit(&f, err);
}

/* ---------------------------------------------------------------- config.json ← options */

static int applies(const cgd_optdef *d, const cgd_run_config *c, cgd_kind_id kind) {
  if (!d->key || !(d->kinds & kind)) return 0;
  return d->map < 0 || c->map == (cgd_map_kind)d->map ||
         (c->compare && c->compare_map == (cgd_map_kind)d->map);
}

json_t *cgd_run_config_json(const cgd_run_config *c) {
  const cgd_kind_id kind = cgd_run_config_kind(c);
  json_t *o = json_object();
  json_object_set_new(o, "kind", json_string(cgd_kind_name(kind)));
  json_object_set_new(o, "objective", json_string(kind == CGD_KIND_MLP ? "mlp" : "multiscale"));
  size_t n;
  const cgd_optdef *t = cgd_opt_table(&n);
  for (size_t i = 0; i < n; i++) {
    const cgd_optdef *d = &t[i];
    if (!applies(d, c, kind)) continue;
    const void *p = (const char *)c + d->offset;
    json_t *v = NULL;
    char buf[32];
    switch (d->type) {
    case OPT_DOUBLE: v = json_real(*(const double *)p); break;
    case OPT_U64: v = json_integer((json_int_t) * (const uint64_t *)p); break;
    case OPT_AUTO_U64: { /* unresolved (outside a run): "auto" */
      uint64_t u = *(const uint64_t *)p, sentinel = cgd_opt_auto_max(d) ? UINT64_MAX : 0;
      v = u == sentinel ? json_string("auto") : json_integer((json_int_t)u);
      break;
    }
    case OPT_SEED: /* a string keeps all 64 bits exact for any JSON reader */
      snprintf(buf, sizeof buf, "%" PRIu64, *(const uint64_t *)p);
      v = json_string(buf);
      break;
    case OPT_STR:
    case OPT_LAW:
    case OPT_STEPS: v = json_string((const char *)p); break;
    case OPT_FLAG:
    case OPT_NEGFLAG: v = json_boolean(*(const int *)p); break;
    case OPT_MAP: v = json_string(cgd_map_kind_name(*(const cgd_map_kind *)p)); break;
    case OPT_CMPMAP: v = json_string(c->compare ? cgd_map_kind_name(c->compare_map) : ""); break;
    case OPT_GIBBS: v = json_string(c->gibbs_gaussian ? "gaussian" : "exact"); break;
    case OPT_RANGE: v = cgd_jarray((const double *)p, 2); break;
    case OPT_LRS: /* one rate; an orbit diagram or a comparison records all its rates */
      v = c->nlr > 1 ? cgd_jarray(c->lrs, c->nlr) : json_real(c->lr);
      break;
    case OPT_ONOFF: {
      int on = *(const int *)p;
      v = json_string(on > 0 ? "on" : on == 0 ? "off" : "auto");
      break;
    }
    case OPT_PARAMS:
      v = json_object();
      for (size_t k = 0; k < c->nparams; k++)
        json_object_set_new(v, c->param_names[k], json_real(c->param_values[k]));
      break;
    }
    json_object_set_new(o, d->key, v);
  }
  json_t *vr = json_object();
  json_object_set_new(vr, "converged_rtol", json_real(c->verdict.converged_rtol));
  json_object_set_new(vr, "increase_rtol", json_real(c->verdict.increase_rtol));
  json_object_set_new(vr, "period_rtol", json_real(c->verdict.period_rtol));
  json_object_set_new(vr, "max_period", json_integer((json_int_t)c->verdict.max_period));
  json_object_set_new(vr, "descent_blocks", json_integer((json_int_t)c->verdict.descent_blocks));
  json_object_set_new(vr, "descent_max_rise", json_real(c->verdict.descent_max_rise));
  json_object_set_new(o, "verdict_rules", vr);
  json_object_set_new(o, "command_line", json_string(c->command_line));
  return o;
}

/* ---------------------------------------------------------------- config.json → options */

/* Keys a run writes for the record that are not options. */
static const char *const INFO_KEYS[] = {"kind", "objective", "out", "command_line", "software",
                                        "dataset", "model", "objective_info", NULL};

static int is_info_key(const char *k) {
  for (size_t i = 0; INFO_KEYS[i]; i++)
    if (!strcmp(INFO_KEYS[i], k)) return 1;
  return 0;
}

/* A JSON scalar as the text the command line would carry, or NULL with a type message. */
static const char *as_text(const cgd_optdef *d, const json_t *v, char *buf, size_t len,
                           const char **want) {
  if (d->type == OPT_LRS && json_is_array(v)) { /* a grid of rates, as a list */
    size_t pos = 0;
    *want = "a number or an array of numbers";
    if (!json_array_size(v)) return NULL;
    for (size_t i = 0; i < json_array_size(v); i++) {
      char b[32];
      const json_t *e = json_array_get(v, i);
      if (!json_is_number(e)) return NULL;
      int w = snprintf(buf + pos, len - pos, "%s%s", i ? "," : "", cgd_fmt_double(json_number_value(e), b, sizeof b));
      if (w < 0 || (size_t)w >= len - pos) return NULL;
      pos += (size_t)w;
    }
    return buf;
  }
  switch (d->type) {
  case OPT_DOUBLE:
  case OPT_LRS:
    *want = "a number";
    if (json_is_integer(v)) snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v)) cgd_fmt_double(json_real_value(v), buf, len);
    else return NULL;
    return buf;
  case OPT_U64:
  case OPT_AUTO_U64:
  case OPT_SEED:
    *want = d->type == OPT_SEED ? "a string of digits" : d->type == OPT_AUTO_U64 ? "a whole number or \"auto\"" : "a whole number >= 0";
    if (json_is_integer(v) && json_integer_value(v) >= 0)
      snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_string(v) && d->type != OPT_U64) return json_string_value(v);
    else return NULL;
    return buf;
  case OPT_FLAG:
  case OPT_NEGFLAG:
    *want = "true or false";
    return json_is_boolean(v) ? (json_is_true(v) ? "true" : "false") : NULL;
  case OPT_RANGE: {
    *want = "[lo, hi]";
    if (json_array_size(v) != 2 || !json_is_number(json_array_get(v, 0)) ||
        !json_is_number(json_array_get(v, 1)))
      return NULL;
    char a[32], b[32];
    snprintf(buf, len, "%s,%s", cgd_fmt_double(json_number_value(json_array_get(v, 0)), a, sizeof a),
             cgd_fmt_double(json_number_value(json_array_get(v, 1)), b, sizeof b));
    return buf;
  }
  default:
    *want = "a string";
    return json_is_string(v) ? json_string_value(v) : NULL;
  }
}

static int load_verdict(const json_t *vr, const char *name, cgd_run_config *c, cgd_error *err) {
  if (!json_is_object(vr)) return cgd_fail(err, CGD_EDATA, "%s: \"verdict_rules\" should be an object", name);
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)vr, k, v) {
    double *dst = !strcmp(k, "converged_rtol")     ? &c->verdict.converged_rtol
                  : !strcmp(k, "increase_rtol")    ? &c->verdict.increase_rtol
                  : !strcmp(k, "period_rtol")      ? &c->verdict.period_rtol
                  : !strcmp(k, "descent_max_rise") ? &c->verdict.descent_max_rise
                                                   : NULL;
    if (!strcmp(k, "descent_blocks")) {
      if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100000)
        return cgd_fail(err, CGD_EDATA, "%s: \"verdict_rules.descent_blocks\" should be a whole number in [0, 100000]", name);
      c->verdict.descent_blocks = (size_t)json_integer_value(v);
    } else if (!strcmp(k, "max_period")) {
      if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100000)
        return cgd_fail(err, CGD_EDATA, "%s: \"verdict_rules.max_period\" should be a whole number in [1, 100000]", name);
      c->verdict.max_period = (size_t)json_integer_value(v);
    } else if (!dst) {
      return cgd_fail(err, CGD_EDATA, "%s: unknown key \"verdict_rules.%s\"", name, k);
    } else if (!json_is_number(v) || !(json_number_value(v) >= 0) || !isfinite(json_number_value(v))) {
      return cgd_fail(err, CGD_EDATA, "%s: \"verdict_rules.%s\" should be a finite number >= 0", name, k);
    } else {
      *dst = json_number_value(v);
    }
  }
  return CGD_OK;
}

static int load_params(const json_t *pj, const char *name, cgd_run_config *c, cgd_error *err) {
  if (!json_is_object(pj)) return cgd_fail(err, CGD_EDATA, "%s: \"params\" should be an object", name);
  const char *k;
  const json_t *v;
  c->nparams = 0;
  json_object_foreach((json_t *)pj, k, v) {
    if (!json_is_number(v))
      return cgd_fail(err, CGD_EDATA, "%s: \"params.%s\" should be a number", name, k);
    char text[200], num[32], who[4200];
    if (snprintf(text, sizeof text, "%s=%s", k, cgd_fmt_double(json_number_value(v), num, sizeof num)) >= (int)sizeof text)
      return cgd_fail(err, CGD_EDATA, "%s: \"params\" name '%.40s...' is too long", name, k);
    snprintf(who, sizeof who, "%s: \"params\"", name);
    if (cgd_opt_set_text(c, cgd_opt_find("param", NULL), who, text, CGD_SRC_FILE, err))
      return CGD_EDATA;
  }
  return CGD_OK;
}

static int load_keys(const json_t *root, const char *name, cgd_run_config *c, char *buf,
                     cgd_error *err);

static int load_root(const json_t *root, const char *name, cgd_run_config *c, cgd_error *err) {
  /* a grid of rates needs room for thousands of numbers as text */
  char *buf = malloc(CGD_MAX_LR * 26);
  if (!buf) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  int rc = load_keys(root, name, c, buf, err);
  free(buf);
  return rc;
}

static int load_keys(const json_t *root, const char *name, cgd_run_config *c, char *buf,
                     cgd_error *err) {
  if (!json_is_object(root)) return cgd_fail(err, CGD_EDATA, "%s: not a JSON object", name);
  snprintf(c->config_path, sizeof c->config_path, "%s", name);
  const json_t *obj = json_object_get(root, "objective");
  if (obj && (!json_is_string(obj) || (strcmp(json_string_value(obj), "mlp") &&
                                       strcmp(json_string_value(obj), "multiscale"))))
    return cgd_fail(err, CGD_EDATA, "%s: \"objective\" must be \"mlp\" or \"multiscale\"", name);
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)root, k, v) {
    if (is_info_key(k)) continue;
    if (!strcmp(k, "verdict_rules")) {
      if (load_verdict(v, name, c, err)) return CGD_EDATA;
      continue;
    }
    if (!strcmp(k, "params")) {
      if (load_params(v, name, c, err)) return CGD_EDATA;
      continue;
    }
    const cgd_optdef *d = cgd_opt_find(NULL, k);
    if (!d) return cgd_fail(err, CGD_EDATA, "%s: unknown key \"%s\"", name, k);
    char who[4200];
    const char *want = "";
    const char *text = as_text(d, v, buf, CGD_MAX_LR * 26, &want);
    if (!text) return cgd_fail(err, CGD_EDATA, "%s: \"%s\" should be %s", name, k, want);
    snprintf(who, sizeof who, "%s: \"%s\"", name, k);
    if (cgd_opt_set_text(c, d, who, text, CGD_SRC_FILE, err)) return CGD_EDATA;
  }
  if (obj && !strcmp(json_string_value(obj), "multiscale") && !c->f0[0])
    return cgd_fail(err, CGD_EDATA, "%s: \"objective\" is \"multiscale\" but \"f0\" is missing", name);
  if (obj && !strcmp(json_string_value(obj), "mlp") && c->f0[0])
    return cgd_fail(err, CGD_EDATA, "%s: \"objective\" is \"mlp\" but \"f0\" is given", name);
  /* "lr" is one rate, or the list of a comparison or the grid of an orbit diagram; a
   * command-line --lr replaces it */
  return CGD_OK;
}

int cgd_run_config_load_string(const char *text, size_t len, const char *name,
                               cgd_run_config *c, cgd_error *err) {
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return cgd_fail(err, CGD_EDATA, "%s line %d column %d: %s", name, je.line, je.column, je.text);
  int rc = load_root(root, name, c, err);
  json_decref(root);
  return rc;
}

int cgd_run_config_load_resume(const char *dir, cgd_run_config *c, cgd_error *err) {
  char path[4200];
  if (snprintf(path, sizeof path, "%s/config.json", dir) >= (int)sizeof path ||
      snprintf(c->out, sizeof c->out, "%s", dir) >= (int)sizeof c->out)
    return cgd_fail(err, CGD_EUSAGE, "--resume: path too long");
  int rc = cgd_run_config_load(path, c, err);
  if (rc) return rc;
  memset(c->src, 0, sizeof c->src); /* the run's own options, already checked once */
  snprintf(c->out, sizeof c->out, "%s", dir);
  c->resume = 1;
  return CGD_OK;
}

int cgd_run_config_load(const char *path_in, cgd_run_config *c, cgd_error *err) {
  /* a run or comparison directory stands for its config.json (a comparison written before
   * comparisons recorded theirs has none: explained) */
  char path[4200];
  struct stat st;
  snprintf(path, sizeof path, "%s", path_in);
  if (stat(path_in, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(path, sizeof path, "%s/config.json", path_in);
    if (access(path, F_OK) != 0) {
      snprintf(path, sizeof path, "%s/comparison.json", path_in);
      if (access(path, F_OK) == 0)
        return cgd_fail(err, CGD_EDATA, "%s is a comparison directory: give one of its runs, "
                        "e.g. %s/lr-*/config.json", path_in, path_in);
      return cgd_fail(err, CGD_EDATA, "%s is a directory without a config.json", path_in);
    }
  }
  FILE *fp = fopen(path, "rb");
  if (!fp) return cgd_fail(err, CGD_EDATA, "%s: cannot open: %s", path, strerror(errno));
  /* a config.json is small; refuse anything else before reading it all */
  const size_t cap = 1 << 20;
  char *buf = malloc(cap + 1);
  if (!buf) {
    fclose(fp);
    return cgd_fail(err, CGD_ENOMEM, "out of memory");
  }
  size_t len = fread(buf, 1, cap + 1, fp);
  int bad = ferror(fp);
  fclose(fp);
  int rc;
  if (bad)
    rc = cgd_fail(err, CGD_EDATA, "%s: cannot read (is it a directory? give RUN/config.json)", path);
  else if (len > cap)
    rc = cgd_fail(err, CGD_EDATA, "%s: larger than 1 MiB: not a config.json", path);
  else if (len == 0)
    rc = cgd_fail(err, CGD_EDATA, "%s: empty file", path);
  else
    rc = cgd_run_config_load_string(buf, len, path, c, err);
  free(buf);
  return rc;
}
