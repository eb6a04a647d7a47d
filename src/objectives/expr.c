/* Expression language: recursive-descent parser -> tree -> constant folding -> a short
 * register program evaluated over blocks of points with second-order forward-mode AD.
 *
 * Every register holds, for a block of m points, the value, the gradient (nvars arrays)
 * and the upper triangle of the Hessian (nvars(nvars+1)/2 arrays). Each instruction is a
 * handful of loops over the block, so the arithmetic vectorises and the per-instruction
 * dispatch cost is paid once per block, not once per point. Registers live in a stack
 * buffer sized per call, so evaluation shares nothing between threads. */
#include "chaosgd/expr.h"

#include "chaosgd/parse.h"
#include "chaosgd/vmath.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ tree */

typedef enum {
  N_NUM, N_VAR, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV, N_POW,
  N_SIN, N_COS, N_TAN, N_EXP, N_LOG, N_SQRT, N_TANH, N_ABS
} node_kind;

typedef struct node {
  node_kind kind;
  int a, b;     /* children (indices into the pool), -1 if absent */
  int var;      /* N_VAR: 0 = x, 1 = y */
  double num;   /* N_NUM */
  size_t pos;   /* 0-based column of the operator or function name, for messages */
} node;

static const struct { const char *name; node_kind kind; } FUNCS[] = {
  {"sin", N_SIN}, {"cos", N_COS}, {"tan", N_TAN}, {"exp", N_EXP},
  {"log", N_LOG}, {"sqrt", N_SQRT}, {"tanh", N_TANH}, {"abs", N_ABS}};
#define NFUNCS (sizeof FUNCS / sizeof FUNCS[0])

/* Deep nesting and huge inputs are the ways user input could exhaust the C stack of the
 * recursive parser and code generator; no sensible objective comes near these bounds. */
#define MAX_DEPTH 200
#define MAX_NODES 4000

typedef struct parser {
  const char *src;
  size_t pos;
  int nvars;
  const char *const *pnames;
  const double *pvals;
  size_t np;
  node *pool;
  size_t n, cap;
  int depth;
  int uses_y;
  int failed;
  int code;
  cgd_error *err;
} parser;

static int fail_at(parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(parser *p, size_t pos, const char *fmt, ...) {
  if (p->failed) return -1;
  p->failed = 1;
  p->code = CGD_EUSAGE;
  if (p->err) {
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* Long sources are cut so that the column and the expectation always fit. */
    size_t len = strlen(p->src);
    if (len > 300)
      cgd_fail(p->err, CGD_EUSAGE, "expression '%.300s...' column %zu: %s", p->src, pos + 1,
               what);
    else
      cgd_fail(p->err, CGD_EUSAGE, "expression '%s' column %zu: %s", p->src, pos + 1, what);
  }
  return -1;
}

static int new_node(parser *p, node_kind k, int a, int b, size_t pos) {
  if (p->failed) return -1;
  if (p->n == MAX_NODES) return fail_at(p, p->pos, "expression too long (over %d nodes)", MAX_NODES);
  if (p->n == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 32;
    node *q = realloc(p->pool, cap * sizeof *q);
    if (!q) {
      p->failed = 1;
      p->code = CGD_ENOMEM;
      cgd_fail(p->err, CGD_ENOMEM, "expression '%.300s': out of memory", p->src);
      return -1;
    }
    p->pool = q;
    p->cap = cap;
  }
  node *nd = &p->pool[p->n];
  nd->kind = k;
  nd->a = a;
  nd->b = b;
  nd->var = 0;
  nd->num = 0;
  nd->pos = pos;
  return (int)p->n++;
}

static void skip_ws(parser *p) {
  while (p->src[p->pos] && isspace((unsigned char)p->src[p->pos])) p->pos++;
}

static int parse_expr(parser *p);
static int parse_unary(parser *p);

static int is_name_start(int c) { return isalpha(c) || c == '_'; }
static int is_name_char(int c) { return isalnum(c) || c == '_'; }

static int parse_atom(parser *p) {
  skip_ws(p);
  const size_t start = p->pos;
  const char c = p->src[p->pos];
  if (isdigit((unsigned char)c) || c == '.') {
    /* The one strict number parser (chaosgd/parse.h): decimal only, finite, and a
     * literal that underflows to zero is an error; a subnormal one is kept. */
    const char *end;
    double v;
    cgd_parse_code pc = cgd_parse_double_prefix(p->src + start, &v, &end);
    if (pc == CGD_PARSE_RANGE)
      return fail_at(p, start, "number out of range (it overflows a double, or underflows to 0)");
    if (pc != CGD_PARSE_OK) return fail_at(p, start, "expected a number");
    p->pos = (size_t)(end - p->src);
    /* "2x", "0x1p3", "1.5.2", "1e": a number glued to more text is a typo, not a product. */
    const char nx = p->src[p->pos];
    if (is_name_char((unsigned char)nx) || nx == '.')
      return fail_at(p, p->pos,
                     "expected an operator between the number '%.*s' and '%c' (e.g. 2*x; "
                     "numbers are decimal)",
                     (int)(p->pos - start), p->src + start, nx);
    int id = new_node(p, N_NUM, -1, -1, start);
    if (id >= 0) p->pool[id].num = v;
    return id;
  }
  if (c == '(') {
    p->pos++;
    int e = parse_expr(p);
    if (e < 0) return -1;
    skip_ws(p);
    if (p->src[p->pos] != ')') return fail_at(p, p->pos, "expected ')'");
    p->pos++;
    return e;
  }
  if (is_name_start((unsigned char)c)) {
    size_t end = start;
    while (is_name_char((unsigned char)p->src[end])) end++;
    const size_t len = end - start;
    const char *nm = p->src + start;
    p->pos = end;
    skip_ws(p);
    const int call = p->src[p->pos] == '(';
    for (size_t f = 0; f < NFUNCS; f++) {
      if (strlen(FUNCS[f].name) == len && !strncmp(FUNCS[f].name, nm, len)) {
        if (!call)
          return fail_at(p, p->pos, "expected '(' after function '%s'", FUNCS[f].name);
        p->pos++;
        int arg = parse_expr(p);
        if (arg < 0) return -1;
        skip_ws(p);
        if (p->src[p->pos] != ')')
          return fail_at(p, p->pos, "expected ')' closing the argument of '%s'",
                         FUNCS[f].name);
        p->pos++;
        return new_node(p, FUNCS[f].kind, arg, -1, start);
      }
    }
    if (call)
      return fail_at(p, start, "unknown function '%.*s' (known: sin cos tan exp log sqrt tanh abs)",
                     (int)len, nm);
    if (len == 1 && (nm[0] == 'x' || nm[0] == 'y')) {
      const int var = nm[0] == 'y';
      if (var >= p->nvars)
        return fail_at(p, start, "'y' used in a 1-D expression (the only variable is x)");
      if (var) p->uses_y = 1;
      int id = new_node(p, N_VAR, -1, -1, start);
      if (id >= 0) p->pool[id].var = var;
      return id;
    }
    if (len == 2 && !strncmp(nm, "pi", 2)) {
      int id = new_node(p, N_NUM, -1, -1, start);
      if (id >= 0) p->pool[id].num = M_PI;
      return id;
    }
    for (size_t k = 0; k < p->np; k++) {
      if (strlen(p->pnames[k]) == len && !strncmp(p->pnames[k], nm, len)) {
        int id = new_node(p, N_NUM, -1, -1, start);
        if (id >= 0) p->pool[id].num = p->pvals[k];
        return id;
      }
    }
    return fail_at(p, start, "unknown name '%.*s'", (int)len, nm);
  }
  if (c == '\0')
    return fail_at(p, start, "expected a number, name or '(' but the expression ends here");
  return fail_at(p, start, "expected a number, name or '('");
}

/* power := atom ('^' unary)? */
static int parse_power(parser *p) {
  int base = parse_atom(p);
  if (base < 0) return -1;
  skip_ws(p);
  if (p->src[p->pos] != '^') return base;
  const size_t at = p->pos++;
  int ex = parse_unary(p);
  if (ex < 0) return -1;
  return new_node(p, N_POW, base, ex, at);
}

/* unary := ('+' | '-') unary | power */
static int parse_unary(parser *p) {
  if (++p->depth > MAX_DEPTH) return fail_at(p, p->pos, "expression nested too deeply");
  skip_ws(p);
  int r;
  const char c = p->src[p->pos];
  if (c == '+' || c == '-') {
    const size_t at = p->pos++;
    int u = parse_unary(p);
    r = (u < 0 || c == '+') ? u : new_node(p, N_NEG, u, -1, at);
  } else {
    r = parse_power(p);
  }
  p->depth--;
  return r;
}

static int parse_term(parser *p) {
  int a = parse_unary(p);
  for (;;) {
    if (a < 0) return -1;
    skip_ws(p);
    const char c = p->src[p->pos];
    if (c != '*' && c != '/') return a;
    const size_t at = p->pos++;
    int b = parse_unary(p);
    if (b < 0) return -1;
    a = new_node(p, c == '*' ? N_MUL : N_DIV, a, b, at);
  }
}

static int parse_expr(parser *p) {
  if (++p->depth > MAX_DEPTH) return fail_at(p, p->pos, "expression nested too deeply");
  int a = parse_term(p);
  for (;;) {
    if (a < 0) break;
    skip_ws(p);
    const char c = p->src[p->pos];
    if (c != '+' && c != '-') break;
    const size_t at = p->pos++;
    int b = parse_term(p);
    if (b < 0) {
      a = -1;
      break;
    }
    a = new_node(p, c == '+' ? N_ADD : N_SUB, a, b, at);
  }
  p->depth--;
  return a;
}

/* ------------------------------------------------------------- scalar maths */

/* u^n for integer n by a fixed square-and-multiply chain: exact sign for negative bases
 * and the same rounding sequence for every point (the block version below mirrors it). */
static double powi_s(double u, long n) {
  unsigned long m = n < 0 ? (unsigned long)(-n) : (unsigned long)n;
  double r = 1.0, b = u;
  while (m) {
    if (m & 1) r *= b;
    m >>= 1;
    if (m) b *= b;
  }
  return n < 0 ? 1.0 / r : r;
}

/* Small integer exponents use the multiplication chain (vectorisable, exact sign);
 * larger ones fall back to pow, which is also exact in sign for integral exponents. */
#define POWI_MAX 64

static int small_int(double c, long *n) {
  if (c == floor(c) && fabs(c) <= POWI_MAX) {
    *n = (long)c;
    return 1;
  }
  return 0;
}

static double pow_const(double u, double c) {
  long n;
  return small_int(c, &n) ? powi_s(u, n) : pow(u, c);
}

/* A unary function of a constant. sin and cos come from the evaluator's kernel
 * (chaosgd/vmath.h, one call for both as in op_unary), so a folded constant has the bits
 * the evaluator gives the same argument; *beyond is set when the argument is outside the
 * kernel's domain (the result is then NaN). */
static double apply1(node_kind k, double u, int *beyond) {
  double s, c;
  switch (k) {
  case N_NEG: return -u;
  case N_SIN:
  case N_COS:
    *beyond = cgd_vsincos(1, &u, &s, &c, NULL) != CGD_OK;
    return k == N_SIN ? s : c;
  case N_TAN: return tan(u);
  case N_EXP: return exp(u);
  case N_LOG: return log(u);
  case N_SQRT: return sqrt(u);
  case N_TANH: return tanh(u);
  case N_ABS: return fabs(u);
  default: return NAN;
  }
}

static double apply2(node_kind k, double a, double b) {
  switch (k) {
  case N_ADD: return a + b;
  case N_SUB: return a - b;
  case N_MUL: return a * b;
  case N_DIV: return a / b;
  case N_POW: return pow_const(a, b);
  default: return NAN;
  }
}

/* The error for an argument of sin or cos beyond the kernel's domain, at parse time (a
 * constant argument, at = "") or at a point (at = " at x = ..."). pos is 0-based. */
static int sincos_domain_fail(cgd_error *err, const char *src, const char *at, const char *fn,
                              size_t pos, double arg) {
  return cgd_fail(err, CGD_EDOMAIN,
                  "expression '%.300s'%s: argument of %s at column %zu is %g, outside the "
                  "deterministic kernel's domain |x| <= 2^40 (%.2g)",
                  src, at, fn, pos + 1, arg, CGD_VMATH_MAX_ARG);
}

/* Bottom-up folding: a node whose children are all numbers becomes a number, computed
 * with the same formulas the evaluator uses. Children precede parents in the pool. A
 * constant sin/cos argument beyond the kernel's domain fails the parse (CGD_EDOMAIN): the
 * evaluator would refuse it at every point. */
static int fold(parser *p) {
  node *pool = p->pool;
  for (size_t i = 0; i < p->n; i++) {
    node *nd = &pool[i];
    if (nd->kind == N_NUM || nd->kind == N_VAR) continue;
    const int a_num = pool[nd->a].kind == N_NUM;
    if (nd->b < 0) {
      if (a_num) {
        const double u = pool[nd->a].num;
        int beyond = 0;
        nd->num = apply1(nd->kind, u, &beyond);
        if (beyond) {
          p->failed = 1;
          p->code = CGD_EDOMAIN;
          return sincos_domain_fail(p->err, p->src, "", nd->kind == N_SIN ? "sin" : "cos",
                                    nd->pos, u);
        }
        nd->kind = N_NUM;
      }
    } else if (a_num && pool[nd->b].kind == N_NUM) {
      nd->num = apply2(nd->kind, pool[nd->a].num, pool[nd->b].num);
      nd->kind = N_NUM;
    } else if (nd->kind == N_POW && pool[nd->b].kind == N_NUM && pool[nd->b].num == 0) {
      nd->kind = N_NUM; /* u^0 = 1 for every u, as pow() says */
      nd->num = 1.0;
    }
  }
  return CGD_OK;
}

/* ------------------------------------------------------------ instructions */

typedef enum {
  I_CONST, I_VAR,
  I_ADD, I_SUB, I_MUL, I_DIV, I_POW,          /* register op register */
  I_ADDC, I_CSUB, I_MULC, I_DIVC, I_CDIV,     /* u+c, c-u, u*c, u/c, c/u */
  I_POWC, I_CPOW,                             /* u^c, c^u */
  I_NEG, I_SIN, I_COS, I_TAN, I_EXP, I_LOG, I_SQRT, I_TANH, I_ABS
} op_kind;

typedef struct instr {
  op_kind op;
  int dst, a, b; /* registers */
  int var;
  double c;
  size_t pos;    /* source column of the operation (domain error messages) */
} instr;

struct cgd_expr {
  char src[256]; /* the source (cut) for messages */
  int nvars;
  int uses_y;
  int nregs;
  size_t ninstr;
  instr *code;
};

typedef struct compiler {
  const node *pool;
  instr *code;
  size_t n;
  int nregs;
  int *need; /* registers a subtree needs (Sethi-Ullman) */
} compiler;

static int is_num(const compiler *c, int id) { return c->pool[id].kind == N_NUM; }

/* Registers for a subtree, constants being immediates of their parent instruction. */
static void label(compiler *c, int id) {
  const node *nd = &c->pool[id];
  if (nd->kind == N_NUM || nd->kind == N_VAR) {
    c->need[id] = 1;
    return;
  }
  if (nd->b < 0) {
    c->need[id] = c->need[nd->a];
    return;
  }
  if (is_num(c, nd->a)) {
    c->need[id] = c->need[nd->b];
  } else if (is_num(c, nd->b)) {
    c->need[id] = c->need[nd->a];
  } else {
    int la = c->need[nd->a], lb = c->need[nd->b];
    c->need[id] = la == lb ? la + 1 : (la > lb ? la : lb);
  }
}

static void emit(compiler *c, op_kind op, int dst, int a, int b, double k, int var,
                 size_t pos) {
  instr *in = &c->code[c->n++];
  in->pos = pos;
  in->op = op;
  in->dst = dst;
  in->a = a;
  in->b = b;
  in->c = k;
  in->var = var;
  if (dst + 1 > c->nregs) c->nregs = dst + 1;
}

static op_kind unary_op(node_kind k) {
  switch (k) {
  case N_NEG: return I_NEG;
  case N_SIN: return I_SIN;
  case N_COS: return I_COS;
  case N_TAN: return I_TAN;
  case N_EXP: return I_EXP;
  case N_LOG: return I_LOG;
  case N_SQRT: return I_SQRT;
  case N_TANH: return I_TANH;
  default: return I_ABS;
  }
}

/* Code for subtree id with its result in register r, using registers r and above. The
 * child needing more registers goes first, so a tree of N nodes needs O(log N) registers. */
static void gen(compiler *c, int id, int r) {
  const node *nd = &c->pool[id];
  switch (nd->kind) {
  case N_NUM: emit(c, I_CONST, r, -1, -1, nd->num, 0, nd->pos); return;
  case N_VAR: emit(c, I_VAR, r, -1, -1, 0, nd->var, nd->pos); return;
  default: break;
  }
  if (nd->b < 0) {
    gen(c, nd->a, r);
    emit(c, unary_op(nd->kind), r, r, -1, 0, 0, nd->pos);
    return;
  }
  if (is_num(c, nd->b)) {
    const double k = c->pool[nd->b].num;
    if (nd->kind == N_POW && k == 1.0) { /* u^1 = u */
      gen(c, nd->a, r);
      return;
    }
    gen(c, nd->a, r);
    switch (nd->kind) {
    case N_ADD: emit(c, I_ADDC, r, r, -1, k, 0, nd->pos); break;
    case N_SUB: emit(c, I_ADDC, r, r, -1, -k, 0, nd->pos); break; /* u - k == u + (-k) exactly */
    case N_MUL: emit(c, I_MULC, r, r, -1, k, 0, nd->pos); break;
    case N_DIV: emit(c, I_DIVC, r, r, -1, k, 0, nd->pos); break;
    default: emit(c, I_POWC, r, r, -1, k, 0, nd->pos); break;
    }
    return;
  }
  if (is_num(c, nd->a)) {
    const double k = c->pool[nd->a].num;
    gen(c, nd->b, r);
    switch (nd->kind) {
    case N_ADD: emit(c, I_ADDC, r, r, -1, k, 0, nd->pos); break;
    case N_SUB: emit(c, I_CSUB, r, r, -1, k, 0, nd->pos); break;
    case N_MUL: emit(c, I_MULC, r, r, -1, k, 0, nd->pos); break;
    case N_DIV: emit(c, I_CDIV, r, r, -1, k, 0, nd->pos); break;
    default: emit(c, I_CPOW, r, r, -1, k, 0, nd->pos); break;
    }
    return;
  }
  int ra, rb;
  if (c->need[nd->a] >= c->need[nd->b]) {
    gen(c, nd->a, r);
    gen(c, nd->b, r + 1);
    ra = r;
    rb = r + 1;
  } else {
    gen(c, nd->b, r);
    gen(c, nd->a, r + 1);
    ra = r + 1;
    rb = r;
  }
  op_kind op = nd->kind == N_ADD ? I_ADD : nd->kind == N_SUB ? I_SUB
             : nd->kind == N_MUL ? I_MUL : nd->kind == N_DIV ? I_DIV : I_POW;
  emit(c, op, r, ra, rb, 0, 0, nd->pos);
}

static int valid_name(const char *s) {
  if (!s || !is_name_start((unsigned char)s[0])) return 0;
  for (const char *q = s; *q; q++)
    if (!is_name_char((unsigned char)*q)) return 0;
  return 1;
}

static int reserved(const char *s) {
  if (!strcmp(s, "x") || !strcmp(s, "y") || !strcmp(s, "pi")) return 1;
  for (size_t f = 0; f < NFUNCS; f++)
    if (!strcmp(s, FUNCS[f].name)) return 1;
  return 0;
}

/* Registers must fit the per-call stack scratch even with the smallest block. */
#define SCRATCH_DOUBLES 8192
#define MIN_BLOCK 8
#define MAX_BLOCK 256

int cgd_expr_parse(const char *src, int nvars, const char *const *param_names,
                   const double *param_values, size_t nparams, cgd_expr **out, cgd_error *err) {
  if (!out) return cgd_fail(err, CGD_EUSAGE, "cgd_expr_parse: out is NULL");
  *out = NULL;
  if (!src) return cgd_fail(err, CGD_EUSAGE, "cgd_expr_parse: expression is NULL");
  if (nvars != 1 && nvars != 2)
    return cgd_fail(err, CGD_EUSAGE, "expression '%.300s': nvars must be 1 or 2, not %d", src,
                    nvars);
  if (nparams && (!param_names || !param_values))
    return cgd_fail(err, CGD_EUSAGE, "expression '%.300s': %zu parameters without names/values",
                    src, nparams);
  for (size_t k = 0; k < nparams; k++) {
    if (!valid_name(param_names[k]))
      return cgd_fail(err, CGD_EUSAGE, "parameter name '%s' is not an identifier",
                      param_names[k] ? param_names[k] : "(null)");
    if (reserved(param_names[k]))
      return cgd_fail(err, CGD_EUSAGE,
                      "parameter name '%s' is reserved (x, y, pi and function names)",
                      param_names[k]);
    for (size_t j = 0; j < k; j++)
      if (!strcmp(param_names[j], param_names[k]))
        return cgd_fail(err, CGD_EUSAGE, "parameter '%s' given twice", param_names[k]);
    if (!isfinite(param_values[k]))
      return cgd_fail(err, CGD_EUSAGE, "parameter '%s' = %g is not finite", param_names[k],
                      param_values[k]);
  }

  parser p = {.src = src, .nvars = nvars, .pnames = param_names, .pvals = param_values,
              .np = nparams, .err = err};
  skip_ws(&p);
  if (!src[p.pos]) {
    fail_at(&p, p.pos, "empty expression: expected a number, name or '('");
    return p.code;
  }
  int root = parse_expr(&p);
  if (root >= 0) {
    skip_ws(&p);
    if (src[p.pos]) {
      if (src[p.pos] == ')')
        fail_at(&p, p.pos, "expected an operator or the end of the expression (unmatched ')')");
      else
        fail_at(&p, p.pos, "expected an operator (+ - * / ^) or the end of the expression");
    }
  }
  if (p.failed) {
    free(p.pool);
    return p.code;
  }

  if (fold(&p)) {
    free(p.pool);
    return p.code;
  }
  cgd_expr *e = calloc(1, sizeof *e);
  compiler c = {.pool = p.pool};
  c.need = malloc(p.n * sizeof *c.need);
  c.code = malloc(p.n * sizeof *c.code);
  if (!e || !c.need || !c.code) {
    free(e);
    free(c.need);
    free(c.code);
    free(p.pool);
    return cgd_fail(err, CGD_ENOMEM, "expression '%.300s': out of memory", src);
  }
  for (size_t i = 0; i < p.n; i++) label(&c, (int)i);
  gen(&c, root, 0);
  free(c.need);
  free(p.pool);
  snprintf(e->src, sizeof e->src, "%s", src);
  e->nvars = nvars;
  e->uses_y = p.uses_y;
  e->nregs = c.nregs;
  e->ninstr = c.n;
  e->code = c.code;
  const size_t per_reg = 1 + (size_t)nvars + (size_t)(nvars * (nvars + 1) / 2);
  if ((size_t)e->nregs * per_reg * MIN_BLOCK + 4 * MAX_BLOCK > SCRATCH_DOUBLES) {
    cgd_expr_free(e);
    return cgd_fail(err, CGD_EUSAGE, "expression '%.300s' is too complex (%d registers)", src,
                    c.nregs);
  }
  *out = e;
  return CGD_OK;
}

int cgd_expr_uses_y(const cgd_expr *e) { return e ? e->uses_y : 0; }

void cgd_expr_free(cgd_expr *e) {
  if (!e) return;
  free(e->code);
  free(e);
}

/* --------------------------------------------------------------- evaluator */

/* One register over a block: value, gradient components, Hessian upper triangle. */
typedef struct reg {
  double *v;
  double *g[2];
  double *h[3]; /* nvars 1: h[0] = xx; nvars 2: xx, xy, yy */
} reg;

typedef struct blk {
  size_t m;   /* points in this block */
  int nv, nh; /* gradient and Hessian arrays per register */
  int order;  /* 0: values, 1: + gradients, 2: + Hessians */
  double *t1, *t2, *t3, *t4; /* MAX_BLOCK temporaries */
} blk;

static const int HA[3] = {0, 0, 1}, HB[3] = {0, 1, 1}; /* Hessian slot -> (a, b) */

static void set_zero_derivs(const blk *B, reg *d) {
  if (B->order >= 1)
    for (int a = 0; a < B->nv; a++) memset(d->g[a], 0, B->m * sizeof(double));
  if (B->order >= 2)
    for (int s = 0; s < B->nh; s++) memset(d->h[s], 0, B->m * sizeof(double));
}

/* Chain rule for v = φ(u) given φ'(u) in d1 and φ''(u) in d2, in place on register u:
 * ∇v = φ' ∇u, ∇²v = φ'' ∇u∇uᵀ + φ' ∇²u. The Hessian goes first as it reads the old ∇u. */
static void chain(const blk *B, reg *u, const double *fv, const double *d1, const double *d2) {
  const size_t m = B->m;
  if (B->order >= 2)
    for (int s = 0; s < B->nh; s++) {
      double *h = u->h[s];
      const double *ga = u->g[HA[s]], *gb = u->g[HB[s]];
      for (size_t j = 0; j < m; j++) h[j] = d2[j] * ga[j] * gb[j] + d1[j] * h[j];
    }
  if (B->order >= 1)
    for (int a = 0; a < B->nv; a++) {
      double *g = u->g[a];
      for (size_t j = 0; j < m; j++) g[j] = d1[j] * g[j];
    }
  memcpy(u->v, fv, m * sizeof(double));
}

/* u^n, u^(n-1), u^(n-2) for small integer n by the chain of powi_s. */
static void powi_blk(size_t m, const double *u, long n, double *out) {
  unsigned long e = n < 0 ? (unsigned long)(-n) : (unsigned long)n;
  double b[MAX_BLOCK];
  for (size_t j = 0; j < m; j++) {
    out[j] = 1.0;
    b[j] = u[j];
  }
  while (e) {
    if (e & 1)
      for (size_t j = 0; j < m; j++) out[j] *= b[j];
    e >>= 1;
    if (e)
      for (size_t j = 0; j < m; j++) b[j] *= b[j];
  }
  if (n < 0)
    for (size_t j = 0; j < m; j++) out[j] = 1.0 / out[j];
}

/* Index of the first argument beyond the sin/cos kernel's domain (NaN is not), or m. */
static size_t first_beyond(size_t m, const double *x) {
  for (size_t j = 0; j < m; j++)
    if (fabs(x[j]) > CGD_VMATH_MAX_ARG) return j;
  return m;
}

/* Unary operations in place on register u. Returns the index of the first point whose
 * sin/cos argument is beyond the kernel's domain (its results are NaN), with that argument
 * in *arg, or B->m. */
static size_t op_unary(const blk *B, op_kind op, reg *u, double c, double *arg) {
  const size_t m = B->m;
  double *fv = B->t1, *d1 = B->t2, *d2 = B->t3;
  const double *x = u->v;
  size_t bad = m;
  switch (op) {
  case I_SIN:
  case I_COS:
    /* One call of the deterministic kernel (chaosgd/vmath.h) gives sin and cos, hence the
     * value and the derivative, with the same bits at any block length or vector width;
     * the folded constants of apply1 come from the same kernel. */
    if (cgd_vsincos(m, x, op == I_SIN ? fv : d1, op == I_SIN ? d1 : fv, NULL)) {
      bad = first_beyond(m, x);
      if (bad < m) *arg = x[bad];
    }
    if (op == I_COS)
      for (size_t j = 0; j < m; j++) d1[j] = -d1[j];
    for (size_t j = 0; j < m; j++) d2[j] = -fv[j];
    break;
  case I_TAN:
    for (size_t j = 0; j < m; j++) {
      fv[j] = tan(x[j]);
      d1[j] = 1.0 + fv[j] * fv[j];
      d2[j] = 2.0 * fv[j] * d1[j];
    }
    break;
  case I_EXP:
    for (size_t j = 0; j < m; j++) {
      fv[j] = exp(x[j]);
      d1[j] = fv[j];
      d2[j] = fv[j];
    }
    break;
  case I_LOG:
    /* Outside log's domain its derivative is undefined too: 1/u alone is finite for u < 0,
     * and a map that evaluates only ∇f (an ensemble between observed steps) would carry
     * on through states where f is NaN. fv − fv is +0 wherever log is finite (the same
     * bits there) and NaN at u ≤ 0. */
    for (size_t j = 0; j < m; j++) {
      fv[j] = log(x[j]);
      d1[j] = (fv[j] - fv[j]) + 1.0 / x[j];
      d2[j] = -d1[j] * d1[j];
    }
    break;
  case I_SQRT:
    for (size_t j = 0; j < m; j++) {
      fv[j] = sqrt(x[j]);
      d1[j] = 0.5 / fv[j];
      d2[j] = -0.5 * d1[j] / x[j];
    }
    break;
  case I_TANH:
    for (size_t j = 0; j < m; j++) {
      fv[j] = tanh(x[j]);
      d1[j] = 1.0 - fv[j] * fv[j];
      d2[j] = -2.0 * fv[j] * d1[j];
    }
    break;
  case I_ABS:
    /* The kink at 0 gets derivative 0 (the subgradient of least norm). */
    for (size_t j = 0; j < m; j++) {
      fv[j] = fabs(x[j]);
      d1[j] = (double)(x[j] > 0) - (double)(x[j] < 0);
      d2[j] = 0.0;
    }
    break;
  case I_CDIV: /* c/u: φ' = -c/u², φ'' = 2c/u³ */
    for (size_t j = 0; j < m; j++) {
      fv[j] = c / x[j];
      d1[j] = -fv[j] / x[j];
      d2[j] = -2.0 * d1[j] / x[j];
    }
    break;
  case I_CPOW: { /* c^u: φ' = c^u ln c, φ'' = c^u ln² c */
    const double lc = log(c);
    for (size_t j = 0; j < m; j++) {
      fv[j] = pow(c, x[j]);
      d1[j] = fv[j] * lc;
      d2[j] = d1[j] * lc;
    }
    break;
  }
  case I_POWC: { /* u^c: φ' = c u^(c-1), φ'' = c (c-1) u^(c-2) */
    long n;
    if (c == 2.0) {
      for (size_t j = 0; j < m; j++) {
        fv[j] = x[j] * x[j];
        d1[j] = 2.0 * x[j];
        d2[j] = 2.0;
      }
    } else if (small_int(c, &n)) {
      powi_blk(m, x, n, fv);
      if (B->order >= 1) {
        powi_blk(m, x, n - 1, d1);
        for (size_t j = 0; j < m; j++) d1[j] *= c;
      }
      if (B->order >= 2) {
        powi_blk(m, x, n - 2, d2);
        const double cc = c * (c - 1.0);
        for (size_t j = 0; j < m; j++) d2[j] *= cc;
      }
    } else {
      for (size_t j = 0; j < m; j++) fv[j] = pow(x[j], c);
      if (B->order >= 1)
        for (size_t j = 0; j < m; j++) d1[j] = c * pow(x[j], c - 1.0);
      if (B->order >= 2)
        for (size_t j = 0; j < m; j++) d2[j] = c * (c - 1.0) * pow(x[j], c - 2.0);
    }
    break;
  }
  default: break;
  }
  chain(B, u, fv, d1, d2);
  return bad;
}

/* Binary operations, result into register d which is one of the operands (a or b). Each
 * formula finishes the Hessian before touching the gradient and the gradient before the
 * value, so the operands it reads are still the old ones. */
static void op_binary(const blk *B, op_kind op, reg *d, const reg *a, const reg *b) {
  const size_t m = B->m;
  const int nv = B->nv, nh = B->nh, order = B->order;
  switch (op) {
  case I_ADD:
  case I_SUB: {
    const double sg = op == I_ADD ? 1.0 : -1.0;
    if (order >= 2)
      for (int s = 0; s < nh; s++)
        for (size_t j = 0; j < m; j++) d->h[s][j] = a->h[s][j] + sg * b->h[s][j];
    if (order >= 1)
      for (int k = 0; k < nv; k++)
        for (size_t j = 0; j < m; j++) d->g[k][j] = a->g[k][j] + sg * b->g[k][j];
    if (op == I_ADD)
      for (size_t j = 0; j < m; j++) d->v[j] = a->v[j] + b->v[j];
    else
      for (size_t j = 0; j < m; j++) d->v[j] = a->v[j] - b->v[j];
    break;
  }
  case I_MUL:
    if (order >= 2)
      for (int s = 0; s < nh; s++) {
        const double *ga = a->g[HA[s]], *gb = a->g[HB[s]];
        const double *hb_a = b->g[HA[s]], *hb_b = b->g[HB[s]];
        for (size_t j = 0; j < m; j++)
          d->h[s][j] = a->h[s][j] * b->v[j] + ga[j] * hb_b[j] + gb[j] * hb_a[j] +
                       a->v[j] * b->h[s][j];
      }
    if (order >= 1)
      for (int k = 0; k < nv; k++)
        for (size_t j = 0; j < m; j++)
          d->g[k][j] = a->g[k][j] * b->v[j] + a->v[j] * b->g[k][j];
    for (size_t j = 0; j < m; j++) d->v[j] = a->v[j] * b->v[j];
    break;
  case I_DIV: {
    /* q = a/b: ∇q = (∇a − q∇b)/b, ∇²q = (∇²a − q∇²b − ∇q∇bᵀ − ∇b∇qᵀ)/b. */
    double *q = B->t1, *gq0 = B->t2, *gq1 = B->t3;
    double *gq[2] = {gq0, gq1};
    for (size_t j = 0; j < m; j++) q[j] = a->v[j] / b->v[j];
    if (order >= 1)
      for (int k = 0; k < nv; k++)
        for (size_t j = 0; j < m; j++) gq[k][j] = (a->g[k][j] - q[j] * b->g[k][j]) / b->v[j];
    if (order >= 2)
      for (int s = 0; s < nh; s++) {
        const double *qa = gq[HA[s]], *qb = gq[HB[s]];
        const double *ba = b->g[HA[s]], *bb = b->g[HB[s]];
        for (size_t j = 0; j < m; j++)
          d->h[s][j] =
              (a->h[s][j] - q[j] * b->h[s][j] - qa[j] * bb[j] - ba[j] * qb[j]) / b->v[j];
      }
    if (order >= 1)
      for (int k = 0; k < nv; k++) memcpy(d->g[k], gq[k], m * sizeof(double));
    memcpy(d->v, q, m * sizeof(double));
    break;
  }
  case I_POW: {
    /* a^b = exp(P), P = b log a: ∇v = v∇P, ∇²v = v(∇P∇Pᵀ + ∇²P) with
     * ∇P = ∇b log a + b∇a/a, ∇²P = ∇²b log a + (∇b∇aᵀ + ∇a∇bᵀ)/a + b(∇²a/a − ∇a∇aᵀ/a²).
     * The value itself comes from pow(), which is more accurate than exp(b log a). */
    double *v = B->t1, *L = B->t4, *gp0 = B->t2, *gp1 = B->t3;
    double *gp[2] = {gp0, gp1};
    for (size_t j = 0; j < m; j++) v[j] = pow(a->v[j], b->v[j]);
    if (order >= 1) {
      for (size_t j = 0; j < m; j++) L[j] = log(a->v[j]);
      for (int k = 0; k < nv; k++)
        for (size_t j = 0; j < m; j++)
          gp[k][j] = b->g[k][j] * L[j] + b->v[j] * a->g[k][j] / a->v[j];
    }
    if (order >= 2)
      for (int s = 0; s < nh; s++) {
        const int p = HA[s], r = HB[s];
        for (size_t j = 0; j < m; j++) {
          const double ia = 1.0 / a->v[j];
          const double hp = b->h[s][j] * L[j] +
                            (b->g[p][j] * a->g[r][j] + a->g[p][j] * b->g[r][j]) * ia +
                            b->v[j] * (a->h[s][j] - a->g[p][j] * a->g[r][j] * ia) * ia;
          d->h[s][j] = v[j] * (gp[p][j] * gp[r][j] + hp);
        }
      }
    if (order >= 1)
      for (int k = 0; k < nv; k++)
        for (size_t j = 0; j < m; j++) d->g[k][j] = v[j] * gp[k][j];
    memcpy(d->v, v, m * sizeof(double));
    break;
  }
  default: break;
  }
}

static void op_const_linear(const blk *B, op_kind op, reg *u, double c) {
  const size_t m = B->m;
  const int nv = B->nv, nh = B->nh, order = B->order;
  switch (op) {
  case I_ADDC:
    for (size_t j = 0; j < m; j++) u->v[j] += c;
    break;
  case I_CSUB:
  case I_NEG:
    if (op == I_CSUB)
      for (size_t j = 0; j < m; j++) u->v[j] = c - u->v[j];
    else
      for (size_t j = 0; j < m; j++) u->v[j] = -u->v[j];
    if (order >= 1)
      for (int k = 0; k < nv; k++)
        for (size_t j = 0; j < m; j++) u->g[k][j] = -u->g[k][j];
    if (order >= 2)
      for (int s = 0; s < nh; s++)
        for (size_t j = 0; j < m; j++) u->h[s][j] = -u->h[s][j];
    break;
  case I_MULC:
    for (size_t j = 0; j < m; j++) u->v[j] *= c;
    if (order >= 1)
      for (int k = 0; k < nv; k++)
        for (size_t j = 0; j < m; j++) u->g[k][j] *= c;
    if (order >= 2)
      for (int s = 0; s < nh; s++)
        for (size_t j = 0; j < m; j++) u->h[s][j] *= c;
    break;
  case I_DIVC: /* divided, not multiplied by 1/c, so that x/eps rounds like the text says */
    for (size_t j = 0; j < m; j++) u->v[j] /= c;
    if (order >= 1)
      for (int k = 0; k < nv; k++)
        for (size_t j = 0; j < m; j++) u->g[k][j] /= c;
    if (order >= 2)
      for (int s = 0; s < nh; s++)
        for (size_t j = 0; j < m; j++) u->h[s][j] /= c;
    break;
  default: break;
  }
}

/* One instruction over the block of B->m points starting at point i0. Returns the index
 * in the block of the first point whose sin/cos argument is beyond the kernel's domain,
 * with that argument in *arg, or B->m. */
static inline size_t exec_instr(const blk *B, reg *regs, const instr *in, const double *x,
                                size_t i0, double *arg) {
  const size_t m = B->m;
  const int nv = B->nv, order = B->order;
  reg *d = &regs[in->dst];
  switch (in->op) {
  case I_CONST:
    for (size_t j = 0; j < m; j++) d->v[j] = in->c;
    set_zero_derivs(B, d);
    break;
  case I_VAR: {
    const double *xs = x + i0 * (size_t)nv + in->var;
    for (size_t j = 0; j < m; j++) d->v[j] = xs[j * (size_t)nv];
    set_zero_derivs(B, d);
    if (order >= 1)
      for (size_t j = 0; j < m; j++) d->g[in->var][j] = 1.0;
    break;
  }
  case I_ADD: case I_SUB: case I_MUL: case I_DIV: case I_POW:
    op_binary(B, in->op, d, &regs[in->a], &regs[in->b]);
    break;
  case I_ADDC: case I_CSUB: case I_MULC: case I_DIVC: case I_NEG:
    op_const_linear(B, in->op, d, in->c);
    break;
  default:
    return op_unary(B, in->op, d, in->c, arg);
  }
  return m;
}

/* " at x = ..." or " at (x, y) = (...)" for messages. */
static void point_text(const cgd_expr *e, const double *pt, char *buf, size_t sz) {
  if (e->nvars == 1) snprintf(buf, sz, " at x = %.17g", pt[0]);
  else snprintf(buf, sz, " at (x, y) = (%.17g, %.17g)", pt[0], pt[1]);
}

int cgd_expr_eval(const cgd_expr *e, size_t n, const double *x, double *f, double *g,
                  double *h, cgd_error *err) {
  if (!e || (n && !x)) return cgd_fail(err, CGD_EUSAGE, "cgd_expr_eval: NULL argument");
  if (n == 0) return CGD_OK;
  const int nv = e->nvars, nh = nv * (nv + 1) / 2;
  const int order = h ? 2 : g ? 1 : 0;
  const size_t per_reg = 1 + (order >= 1 ? (size_t)nv : 0) + (order >= 2 ? (size_t)nh : 0);
  double scratch[SCRATCH_DOUBLES];
  /* Block length: as long as the registers fit, a multiple of 8 for the vector loops. */
  size_t bl = (SCRATCH_DOUBLES - 4 * MAX_BLOCK) / ((size_t)e->nregs * per_reg);
  bl = bl > MAX_BLOCK ? MAX_BLOCK : bl & ~(size_t)7;
  if (bl < MIN_BLOCK) bl = MIN_BLOCK; /* guaranteed to fit by cgd_expr_parse */

  reg regs[e->nregs > 0 ? e->nregs : 1];
  double *p = scratch;
  blk B = {.nv = nv, .nh = nh, .order = order};
  B.t1 = p; p += MAX_BLOCK;
  B.t2 = p; p += MAX_BLOCK;
  B.t3 = p; p += MAX_BLOCK;
  B.t4 = p; p += MAX_BLOCK;
  for (int r = 0; r < e->nregs; r++) {
    regs[r].v = p; p += bl;
    for (int a = 0; a < 2; a++) regs[r].g[a] = NULL;
    for (int s = 0; s < 3; s++) regs[r].h[s] = NULL;
    if (order >= 1)
      for (int a = 0; a < nv; a++) { regs[r].g[a] = p; p += bl; }
    if (order >= 2)
      for (int s = 0; s < nh; s++) { regs[r].h[s] = p; p += bl; }
  }

  /* The reported domain error is the first instruction failing at the lowest-numbered
   * point, so the message does not depend on the block length either. */
  size_t bad_pt = n;
  const instr *bad_in = NULL;
  double bad_arg = 0;
  for (size_t i0 = 0; i0 < n; i0 += bl) {
    const size_t m = n - i0 < bl ? n - i0 : bl;
    B.m = m;
    for (size_t k = 0; k < e->ninstr; k++) {
      double arg;
      const size_t j = exec_instr(&B, regs, &e->code[k], x, i0, &arg);
      if (j < m && i0 + j < bad_pt) {
        bad_pt = i0 + j;
        bad_in = &e->code[k];
        bad_arg = arg;
      }
    }
    const reg *r = &regs[0];
    if (f) memcpy(f + i0, r->v, m * sizeof(double));
    if (g)
      for (int a = 0; a < nv; a++)
        for (size_t j = 0; j < m; j++) g[(i0 + j) * (size_t)nv + a] = r->g[a][j];
    if (h)
      for (int s = 0; s < nh; s++) {
        const int a = HA[s], b = HB[s];
        for (size_t j = 0; j < m; j++) {
          double *hj = h + (i0 + j) * (size_t)(nv * nv);
          hj[a * nv + b] = r->h[s][j];
          hj[b * nv + a] = r->h[s][j];
        }
      }
  }
  if (bad_in) {
    char at[96];
    point_text(e, x + bad_pt * (size_t)nv, at, sizeof at);
    return sincos_domain_fail(err, e->src, at, bad_in->op == I_SIN ? "sin" : "cos",
                              bad_in->pos, bad_arg);
  }
  return CGD_OK;
}

/* --------------------------------------------------------------- domain checks */

static int reg_finite(const blk *B, const reg *r) {
  if (!isfinite(r->v[0])) return 0;
  if (B->order >= 1)
    for (int a = 0; a < B->nv; a++)
      if (!isfinite(r->g[a][0])) return 0;
  return 1;
}

/* Why op gave a non-finite value or derivative from finite operands u (and w). */
static void why(const instr *in, double u, double w, int value_ok, char *buf, size_t sz) {
  const double c = in->c;
  switch (in->op) {
  case I_VAR: snprintf(buf, sz, "the variable itself is not finite"); return;
  case I_LOG:
    if (u < 0) snprintf(buf, sz, "log of a negative number, log(%.17g)", u);
    else if (u == 0) snprintf(buf, sz, "log(0) is -inf");
    else snprintf(buf, sz, "log(%.17g): its derivative 1/u overflows", u);
    return;
  case I_SQRT:
    if (u < 0) snprintf(buf, sz, "sqrt of a negative number, sqrt(%.17g)", u);
    else snprintf(buf, sz, "sqrt(%.17g) has an infinite derivative", u);
    return;
  case I_DIV:
    if (w == 0) snprintf(buf, sz, "division by zero (%.17g/0)", u);
    else snprintf(buf, sz, "%.17g/%.17g overflows", u, w);
    return;
  case I_CDIV:
    if (u == 0) snprintf(buf, sz, "division by zero (%.17g/0)", c);
    else snprintf(buf, sz, "%.17g/%.17g overflows", c, u);
    return;
  case I_DIVC:
    if (c == 0) snprintf(buf, sz, "division by zero (%.17g/0)", u);
    else snprintf(buf, sz, "%.17g/%.17g overflows", u, c);
    return;
  case I_POWC: case I_CPOW: case I_POW: {
    const double b = in->op == I_POWC ? u : in->op == I_CPOW ? c : u;
    const double ex = in->op == I_POWC ? c : in->op == I_CPOW ? u : w;
    if (b < 0 && ex != floor(ex))
      snprintf(buf, sz, "negative base to a non-integer power, (%.17g)^%.17g", b, ex);
    else if (b == 0 && ex < 0)
      snprintf(buf, sz, "zero to a negative power, 0^%.17g", ex);
    else if (in->op == I_POW && b <= 0)
      snprintf(buf, sz,
               "a power with a variable exponent needs a positive base for its derivative, "
               "base %.17g",
               b);
    else if (value_ok)
      snprintf(buf, sz, "(%.17g)^%.17g has an infinite derivative", b, ex);
    else
      snprintf(buf, sz, "(%.17g)^%.17g overflows", b, ex);
    return;
  }
  case I_EXP: snprintf(buf, sz, "exp(%.17g) overflows", u); return;
  case I_TAN: snprintf(buf, sz, "tan(%.17g) is at or next to a pole", u); return;
  case I_MUL: snprintf(buf, sz, "%.17g*%.17g overflows", u, w); return;
  case I_MULC: snprintf(buf, sz, "%.17g*%.17g overflows", u, c); return;
  case I_ADD: case I_SUB: snprintf(buf, sz, "%.17g %c %.17g overflows", u,
                                   in->op == I_ADD ? '+' : '-', w); return;
  default: snprintf(buf, sz, "the result overflows"); return;
  }
}

/* Runs the program on one point, instruction by instruction, and describes the first
 * one whose result is not finite although its operands are. */
static void diagnose(const cgd_expr *e, const double *x, int order, char *buf, size_t sz) {
  const int nv = e->nvars, nh = nv * (nv + 1) / 2;
  double scratch[SCRATCH_DOUBLES];
  reg regs[e->nregs > 0 ? e->nregs : 1];
  double *p = scratch;
  blk B = {.m = 1, .nv = nv, .nh = nh, .order = order};
  B.t1 = p; p += MAX_BLOCK;
  B.t2 = p; p += MAX_BLOCK;
  B.t3 = p; p += MAX_BLOCK;
  B.t4 = p; p += MAX_BLOCK;
  for (int r = 0; r < e->nregs; r++) {
    regs[r].v = p++;
    for (int a = 0; a < 2; a++) regs[r].g[a] = NULL;
    for (int s = 0; s < 3; s++) regs[r].h[s] = NULL;
    if (order >= 1)
      for (int a = 0; a < nv; a++) regs[r].g[a] = p++;
  }
  for (size_t k = 0; k < e->ninstr; k++) {
    const instr *in = &e->code[k];
    const int binary = in->op == I_ADD || in->op == I_SUB || in->op == I_MUL ||
                       in->op == I_DIV || in->op == I_POW;
    const int unary = !binary && in->op != I_CONST && in->op != I_VAR;
    int ok_before = 1;
    double u = 0, w = 0;
    if (binary) {
      ok_before = reg_finite(&B, &regs[in->a]) && reg_finite(&B, &regs[in->b]);
      u = regs[in->a].v[0];
      w = regs[in->b].v[0];
    } else if (unary) {
      ok_before = reg_finite(&B, &regs[in->dst]);
      u = regs[in->dst].v[0];
    }
    double arg;
    /* no sin/cos argument is beyond the domain here: cgd_expr_eval reported those first */
    (void)exec_instr(&B, regs, in, x, 0, &arg);
    if (ok_before && !reg_finite(&B, &regs[in->dst])) {
      char what[300];
      const int value_ok = isfinite(regs[in->dst].v[0]);
      why(in, u, w, value_ok, what, sizeof what);
      snprintf(buf, sz, "%s at column %zu: %s", value_ok ? "its derivative" : "its value",
               in->pos + 1, what);
      return;
    }
  }
  snprintf(buf, sz, "its value or derivative is not finite");
}

int cgd_expr_check_finite(const cgd_expr *e, size_t n, const double *x, int derivs,
                          cgd_error *err) {
  if (!e || (n && !x)) return cgd_fail(err, CGD_EUSAGE, "cgd_expr_check_finite: NULL argument");
  const int nv = e->nvars;
  enum { CHUNK = 256 };
  double f[CHUNK], g[2 * CHUNK];
  for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
    const size_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
    /* a sin/cos argument beyond the kernel's domain is its own error (CGD_EDOMAIN) */
    const int rc = cgd_expr_eval(e, m, x + i0 * (size_t)nv, f, derivs ? g : NULL, NULL, err);
    if (rc) return rc;
    for (size_t j = 0; j < m; j++) {
      int ok = isfinite(f[j]);
      for (int a = 0; ok && derivs && a < nv; a++) ok = isfinite(g[j * (size_t)nv + a]);
      if (ok) continue;
      const double *pt = x + (i0 + j) * (size_t)nv;
      char why_s[512], at[128];
      diagnose(e, pt, derivs ? 1 : 0, why_s, sizeof why_s);
      point_text(e, pt, at, sizeof at);
      return cgd_fail(err, CGD_EUSAGE, "expression '%s' is not defined%s: %s", e->src, at,
                      why_s);
    }
  }
  return CGD_OK;
}
