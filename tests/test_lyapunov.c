/* Lyapunov machinery: batch means, Benettin QR against linear maps with known exponents,
 * ensembles against single orbits, the momentum Jacobians against finite differences, the
 * MLP Hessian-vector product against central differences of gradients, Lanczos sharpness
 * against a dense Hessian built from 113 HVPs, and the MLP tangent/twin exponents. */
#include <cblas.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chaosgd/bifurcation.h"
#include "chaosgd/dataset.h"
#include "chaosgd/lyapunov.h"
#include "chaosgd/mlp.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/rng.h"
#include "chaosgd/sharpness.h"

#include "check_main.h"

static cgd_objective *mk(const char *f0, const char *f1, double eps) {
  cgd_ms_spec sp = {.f0 = f0, .f1 = f1, .eps = eps, .k = 1.0};
  cgd_objective *o = NULL;
  cgd_error err = {{0}};
  ck_assert_msg(cgd_multiscale_create(&sp, &o, &err) == 0, "%s", err.msg);
  return o;
}

/* i.i.d. uniform values: mean 1/2, se ≈ sd/√n = (1/√12)/√n. The batch-means se is itself
 * estimated from 32–64 batches, so it is within ±40% of the truth with near certainty. */
START_TEST(batch_means_iid_and_constant) {
  cgd_batch_means bm;
  cgd_bm_init(&bm, 100, 16);
  const size_t n = 200000;
  for (size_t i = 0; i < n + 100; i++) cgd_bm_push(&bm, cgd_rng_uniform(7, 1, i));
  cgd_estimate e = cgd_bm_estimate(&bm);
  ck_assert_uint_eq(e.n, n);
  ck_assert(e.batches >= 32 && e.batches < 64);
  double se = sqrt(1.0 / 12.0 / (double)n);
  ck_assert_msg(fabs(e.mean - 0.5) < 5 * se, "mean %g", e.mean);
  ck_assert_msg(e.se > 0.6 * se && e.se < 1.4 * se, "se %g vs %g", e.se, se);
  cgd_bm_init(&bm, 0, 1);
  for (int i = 0; i < 1000; i++) cgd_bm_push(&bm, 2.5);
  e = cgd_bm_estimate(&bm);
  ck_assert(e.mean == 2.5 && e.se == 0.0);
}
END_TEST

/* J = R diag(2, 1/2) Rᵀ constant (a symmetric GD-like Jacobian, rotated off the axes):
 * exponents ln 2 and −ln 2, ‖J‖₂ = 2. A non-normal J = [[2, 5], [0, 1/2]]: exponents still
 * ln 2, −ln 2 (the eigenvalues) while ln‖J‖₂ > ln 2: the norm average overestimates. */
START_TEST(qr_known_linear_maps) {
  cgd_lyap_qr *q;
  cgd_error err;
  double c = cos(0.3), s = sin(0.3);
  double J[4] = {2 * c * c + 0.5 * s * s, (2 - 0.5) * c * s, (2 - 0.5) * c * s, 2 * s * s + 0.5 * c * c};
  ck_assert_int_eq(cgd_lyap_qr_create(2, 2, 10, &q, &err), 0);
  for (int t = 0; t < 1000; t++) cgd_lyap_qr_push_jac(q, J, 1);
  ck_assert(fabs(cgd_lyap_qr_exponent(q, 0).mean - M_LN2) < 1e-12);
  ck_assert(fabs(cgd_lyap_qr_exponent(q, 1).mean + M_LN2) < 1e-12);
  ck_assert(fabs(cgd_lyap_qr_norm_average(q).mean - M_LN2) < 1e-12);
  cgd_lyap_qr_free(q);
  double N[4] = {2, 5, 0, 0.5};
  ck_assert_int_eq(cgd_lyap_qr_create(2, 2, 100, &q, &err), 0);
  for (int t = 0; t < 100000; t++) cgd_lyap_qr_push_jac(q, N, 0);
  double l1 = cgd_lyap_qr_exponent(q, 0).mean, l2 = cgd_lyap_qr_exponent(q, 1).mean;
  double na = cgd_lyap_qr_norm_average(q).mean;
  ck_assert_msg(fabs(l1 - M_LN2) < 1e-4 && fabs(l2 + M_LN2) < 1e-4, "%g %g", l1, l2);
  ck_assert_msg(fabs(na - log(cgd_matrix_norm2(2, N, 0))) < 1e-9 && na > l1 + 0.5, "%g", na);
  cgd_lyap_qr_free(q);
  /* general-d norm: Jacobi path against the 2×2 closed form on a 3×3 block matrix */
  double B[9] = {2, 5, 0, 0, 0.5, 0, 0, 0, 1};
  ck_assert(fabs(cgd_matrix_norm2(3, B, 0) - cgd_matrix_norm2(2, N, 0)) < 1e-12);
}
END_TEST

/* An ensemble of 1-D orbits: each particle's exponent equals the single-orbit routine's. */
START_TEST(ensemble_matches_orbits) {
  cgd_objective *o = mk("doublewell", "sin", 1e-4);
  const size_t n = 8, T = 20000, burn = 100;
  const double eta = 0.02;
  double x[8], g[8], h[8];
  cgd_lyap_ens *e;
  cgd_error err;
  ck_assert_int_eq(cgd_lyap_ens_create(n, 1, burn, &e, &err), 0);
  for (size_t i = 0; i < n; i++) x[i] = 0.8 + 0.05 * (double)i;
  for (size_t t = 0; t < T + burn; t++) {
    ck_assert_int_eq(o->eval(o->ctx, n, x, NULL, g, h, &err), 0);
    cgd_lyap_ens_push_hess(e, eta, h);
    for (size_t i = 0; i < n; i++) x[i] -= eta * g[i];
  }
  for (size_t i = 0; i < n; i++) {
    cgd_estimate one;
    ck_assert_int_eq(cgd_lyapunov_1d(o, eta, 0.8 + 0.05 * (double)i, burn, T, &one, NULL, &err), 0);
    ck_assert_msg(fabs(one.mean - cgd_lyap_ens_particle(e, i)) < 1e-12, "particle %zu", i);
  }
  cgd_lyap_summary s = cgd_lyap_ens_summary(e);
  ck_assert(s.frac_positive == 1.0 && s.steps == T);
  ck_assert(fabs(s.mean - (log(eta / 1e-4) - M_LN2)) < 0.05);
  cgd_lyap_ens_free(e);
  cgd_objective_free(o);
}
END_TEST

/* 2-D ensemble (one tangent per particle) against the Benettin λ1 of one orbit: Matyas +
 * sincos2d, ε = 1e-4, η = 0.1, 4 particles × 2·10⁵ steps; the per-particle se is ≈ 2e-3
 * (per-step sd ≈ 0.9), so 0.02 is ~10 se. */
START_TEST(ensemble_2d_matches_qr) {
  cgd_objective *o = mk("matyas", "sincos2d", 1e-4);
  const size_t n = 4, T = 200000, burn = 1000;
  const double eta = 0.1;
  double x[8], g[8], h[16];
  cgd_lyap_ens *e;
  cgd_error err;
  ck_assert_int_eq(cgd_lyap_ens_create(n, 2, burn, &e, &err), 0);
  for (size_t i = 0; i < n; i++) { x[2 * i] = 0.3 + 0.1 * (double)i; x[2 * i + 1] = -0.2; }
  for (size_t t = 0; t < T + burn; t++) {
    ck_assert_int_eq(o->eval(o->ctx, n, x, NULL, g, h, &err), 0);
    cgd_lyap_ens_push_hess(e, eta, h);
    for (size_t k = 0; k < 2 * n; k++) x[k] -= eta * g[k];
  }
  double x0[2] = {0.3, -0.2};
  cgd_estimate sp[2], na;
  ck_assert_int_eq(cgd_lyapunov_spectrum(o, eta, x0, burn, T, sp, &na, &err), 0);
  cgd_lyap_summary s = cgd_lyap_ens_summary(e);
  printf("2-D ensemble: mean %.4f (sd %.4f), QR lambda1 %.4f +- %.4f, norm_average %.4f\n", s.mean, s.std,
         sp[0].mean, sp[0].se, na.mean);
  ck_assert_msg(fabs(s.mean - sp[0].mean) < 0.02, "%g vs %g", s.mean, sp[0].mean);
  ck_assert(s.max < na.mean); /* every particle below the norm average */
  cgd_lyap_ens_free(e);
  cgd_objective_free(o);
}
END_TEST

/* Heavy ball and NAG-SC Jacobians against central differences of the maps. */
static void hb_map(const cgd_objective *o, double eta, double gam, const double *s, double *out) {
  double g;
  cgd_error err;
  o->eval(o->ctx, 1, s, NULL, &g, NULL, &err);
  double v = gam * s[1] - eta * g; /* v' = γv − η f'(x) */
  out[0] = s[0] + v;               /* x' = x + v' */
  out[1] = v;
}
static void nag_map(const cgd_objective *o, double eta, double c, const double *s, double *out) {
  double g;
  cgd_error err;
  o->eval(o->ctx, 1, s + 1, NULL, &g, NULL, &err);
  double xn = s[1] - eta * g; /* x' = y − η f'(y) */
  out[0] = xn;
  out[1] = xn + c * (xn - s[0]); /* y' = x' + c(x' − x) */
}
START_TEST(momentum_jacobians) {
  cgd_objective *o = mk("doublewell", "none", 1.0);
  const double eta = 0.05, gam = 0.9, c = 0.6, hstep = 1e-6;
  double s[2] = {0.7, -0.1}, J[4], Jn[4], h, g;
  cgd_error err;
  for (int which = 0; which < 2; which++) {
    o->eval(o->ctx, 1, which ? s + 1 : s, NULL, &g, &h, &err);
    if (which) cgd_jacobian_nag_sc(1, eta, c, &h, J);
    else cgd_jacobian_heavyball(1, eta, gam, &h, J);
    for (int b = 0; b < 2; b++) {
      double sp[2] = {s[0], s[1]}, sm[2] = {s[0], s[1]}, op[2], om[2];
      sp[b] += hstep;
      sm[b] -= hstep;
      if (which) { nag_map(o, eta, c, sp, op); nag_map(o, eta, c, sm, om); }
      else { hb_map(o, eta, gam, sp, op); hb_map(o, eta, gam, sm, om); }
      for (int a = 0; a < 2; a++) Jn[a * 2 + b] = (op[a] - om[a]) / (2 * hstep);
    }
    for (int k = 0; k < 4; k++) ck_assert_msg(fabs(J[k] - Jn[k]) < 1e-8, "map %d entry %d: %g vs %g", which, k, J[k], Jn[k]);
  }
  cgd_objective_free(o);
}
END_TEST

/* Orbit statistics on synthetic points: wells counted through bitmap growth on both sides,
 * hops, the period of a repeating sequence, and the stored points in time order. */
START_TEST(orbit1d_wells_hops_period) {
  cgd_orbit1d *o;
  cgd_error err;
  ck_assert_int_eq(cgd_orbit1d_create(0.5, 8, 1.0, 0.0, &o, &err), 0);
  const double xs[] = {0.5, 0.7, 1000.5, -3000.5, 0.2, 1000.9, 70000.1, -5.5};
  for (int i = 0; i < 8; i++) ck_assert_int_eq(cgd_orbit1d_push(o, xs[i], 1.0), 0);
  cgd_orbit1d_stats st = cgd_orbit1d_stats_get(o, 4, 1e-9);
  /* cells 0, 0, 1000, −3001, 0, 1000, 70000, −6: distinct {0, 1000, −3001, 70000, −6} */
  ck_assert_uint_eq(st.wells, 5);
  ck_assert_uint_eq(st.hops, 6);
  ck_assert_uint_eq(st.period, 0);
  ck_assert(fabs(st.lambda.mean - log(0.5)) < 1e-15); /* |1 − 0.5·1| */
  double pts[64];
  ck_assert_uint_eq(cgd_orbit1d_points(o, pts), 8);
  ck_assert(pts[0] == 0.5 && pts[7] == -5.5);
  cgd_orbit1d_free(o);
  ck_assert_int_eq(cgd_orbit1d_create(0.5, 64, 0.0, 0.0, &o, &err), 0);
  for (int i = 0; i < 200; i++) cgd_orbit1d_push(o, (double)(i % 3) * 0.25, 1.0);
  st = cgd_orbit1d_stats_get(o, 16, 1e-9);
  ck_assert_uint_eq(st.period, 3);
  ck_assert_uint_eq(cgd_orbit1d_points(o, pts), 64); /* keeps the last 64, in time order */
  ck_assert(pts[63] == (double)(199 % 3) * 0.25);
  cgd_orbit1d_free(o);
}
END_TEST

START_TEST(verdict_rules) {
  cgd_estimate pos = {0.01, 0.001, 1000, 40, 25}, neg = {-0.01, 0.001, 1000, 40, 25},
               zero = {0.001, 0.001, 1000, 40, 25}, shrt = {0.5, NAN, 10, 0, 16};
  ck_assert_int_eq(cgd_mverdict_measured(0, 0, 0, pos), CGD_MVERDICT_CHAOTIC);
  ck_assert_int_eq(cgd_mverdict_measured(0, 0, 0, neg), CGD_MVERDICT_QUASIPERIODIC);
  ck_assert_int_eq(cgd_mverdict_measured(0, 0, 0, zero), CGD_MVERDICT_UNDECIDED);
  ck_assert_int_eq(cgd_mverdict_measured(0, 0, 0, shrt), CGD_MVERDICT_UNDECIDED);
  ck_assert_int_eq(cgd_mverdict_measured(0, 0, 1, pos), CGD_MVERDICT_DESCENDING);
  ck_assert_int_eq(cgd_mverdict_measured(0, 1, 0, pos), CGD_MVERDICT_PERIODIC);
  ck_assert_int_eq(cgd_mverdict_measured(1, 1, 1, pos), CGD_MVERDICT_CONVERGED);
  ck_assert_str_eq(cgd_mverdict_name(CGD_MVERDICT_QUASIPERIODIC), "quasiperiodic");
}
END_TEST

/* ------------------------------------------------------------------------------ MLP */

static cgd_dataset *airfoil(void) {
  const char *path = getenv("CGD_AIRFOIL");
  ck_assert_msg(path && access(path, R_OK) == 0, "Airfoil data missing (CGD_AIRFOIL)");
  cgd_dataset *ds;
  cgd_error err;
  ck_assert_msg(cgd_dataset_load(path, 0, &ds, &err) == CGD_OK, "%s", err.msg);
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_OK);
  return ds;
}

/* Is the leaky-ReLU activation pattern (sign of every pre-activation on every row) the
 * same at θ ± h v as at θ? Then L is one polynomial on that segment. */
static int same_pattern(const cgd_dataset *ds, size_t H, const double *th, const double *v, double h) {
  const size_t d = ds->d;
  for (size_t i = 0; i < ds->n; i++)
    for (size_t j = 0; j < H; j++) {
      double z0 = th[H * d + j], zv = v[H * d + j];
      for (size_t k = 0; k < d; k++) {
        z0 += th[j * d + k] * ds->X[i * d + k];
        zv += v[j * d + k] * ds->X[i * d + k];
      }
      if ((z0 > 0) != (z0 + h * zv > 0) || (z0 > 0) != (z0 - h * zv > 0)) return 0;
    }
  return 1;
}

/* HVP against central differences of the BLAS gradient. On a segment θ ± hv with no
 * leaky-ReLU kink crossed (checked; h is the largest of 1e-5, 1e-6, … with that property)
 * L is a polynomial of degree 4 in the step (ŷ is bilinear in W1, W2), so the central
 * difference is exact to O(h²)·(4th derivative, O(1)) plus rounding ε_mach‖g‖/h: both
 * ≲ 1e-8 relative for h ≥ 1e-8. Tolerance 1e-6 relative. Across a kink the gradient jumps
 * by O(1/n) and the difference quotient is meaningless — that is the discontinuity of the
 * GD map, not an error of the HVP. Also: the fused gradient equals the training path's,
 * and the Hessian is symmetric (uᵀHv = vᵀHu). */
START_TEST(mlp_hvp_vs_central_differences) {
  cgd_dataset *ds = airfoil();
  cgd_mlp *m;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(ds->n, ds->d, 16, 0.01, ds->X, ds->y, &m, &err), 0);
  const size_t P = cgd_mlp_nparams(m);
  double *th = malloc(sizeof(double) * 9 * P), *v = th + P, *u = v + P, *hv = u + P,
         *hu = hv + P, *gp = hu + P, *gm = gp + P, *g = gm + P, *g2 = g + P;
  double *scr = malloc(sizeof(double) * cgd_mlp_hvp_scratch_len(m));
  cgd_mlp_init(m, 3, th);
  for (int stage = 0; stage < 2; stage++) {
    if (stage == 1) /* a trained point too: 2000 steps at lr 0.02 */
      for (int t = 0; t < 2000; t++) {
        cgd_mlp_loss_grad(m, th, g);
        for (size_t p = 0; p < P; p++) th[p] -= 0.02 * g[p];
      }
    for (size_t p = 0; p < P; p++) {
      v[p] = 2 * cgd_rng_uniform(11, 2, p) - 1;
      u[p] = 2 * cgd_rng_uniform(11, 3, p) - 1;
    }
    double L1, L2;
    ck_assert_int_eq(cgd_mlp_loss_grad_hvp(m, th, v, &L1, g, hv, scr, &err), 0);
    ck_assert_int_eq(cgd_mlp_hvp(m, th, u, hu, NULL, &err), 0);
    L2 = cgd_mlp_loss_grad(m, th, g2);
    ck_assert(fabs(L1 - L2) <= 1e-13 * L2);
    double gn = 0, gd = 0;
    for (size_t p = 0; p < P; p++) {
      gn += g[p] * g[p];
      gd += (g[p] - g2[p]) * (g[p] - g2[p]);
    }
    ck_assert_msg(sqrt(gd) <= 1e-12 * sqrt(gn), "fused gradient differs: %g", sqrt(gd / gn));
    double h = 1e-5;
    while (h > 1e-9 && !same_pattern(ds, 16, th, v, h)) h /= 10;
    ck_assert_msg(h > 1e-9, "no kink-free segment");
    double tp[200], tm[200];
    for (size_t p = 0; p < P; p++) { tp[p] = th[p] + h * v[p]; tm[p] = th[p] - h * v[p]; }
    cgd_mlp_loss_grad(m, tp, gp);
    cgd_mlp_loss_grad(m, tm, gm);
    double num = 0, den = 0, uhv = 0, vhu = 0;
    for (size_t p = 0; p < P; p++) {
      double fd = (gp[p] - gm[p]) / (2 * h);
      num += (fd - hv[p]) * (fd - hv[p]);
      den += hv[p] * hv[p];
      uhv += u[p] * hv[p];
      vhu += v[p] * hu[p];
    }
    printf("mlp hvp stage %d (h %g): |Hv - fd|/|Hv| = %.3g, symmetry %.3g\n", stage, h, sqrt(num / den),
           fabs(uhv - vhu) / fabs(uhv));
    ck_assert_msg(sqrt(num / den) < 1e-6, "hvp vs fd: %g", sqrt(num / den));
    ck_assert(fabs(uhv - vhu) <= 1e-10 * fabs(uhv));
  }
  free(scr);
  free(th);
  cgd_mlp_free(m);
  cgd_dataset_free(ds);
}
END_TEST

typedef struct { cgd_mlp *m; const double *th; double *scr; } mlp_at;
static int mlp_hvp_at(void *ctx, const double *v, double *hv, cgd_error *err) {
  mlp_at *c = ctx;
  return cgd_mlp_hvp(c->m, c->th, v, hv, c->scr, err);
}

/* Sharpness: Lanczos (60 HVPs) against the dense 113×113 Hessian from 113 HVPs with the
 * unit vectors, diagonalised by Jacobi. The top eigenvalue of the Airfoil MLP is well
 * separated, so Lanczos converges to rounding: 1e-9 relative. Also via the objective's
 * hvp callback, and the analytic 2-D closed form against Lanczos on eval's Hessian. */
START_TEST(sharpness_vs_dense_hessian) {
  cgd_dataset *ds = airfoil();
  cgd_mlp *m;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(ds->n, ds->d, 16, 0.01, ds->X, ds->y, &m, &err), 0);
  const size_t P = cgd_mlp_nparams(m);
  ck_assert_uint_eq(P, 113);
  double *th = malloc(sizeof(double) * (P * P + 5 * P)), *Hd = th + P, *e = Hd + P * P,
         *w = e + P, *g = w + P, *vec = g + P;
  double *scr = malloc(sizeof(double) * cgd_mlp_hvp_scratch_len(m));
  cgd_mlp_init(m, 0, th);
  for (int t = 0; t < 3000; t++) {
    cgd_mlp_loss_grad(m, th, g);
    for (size_t p = 0; p < P; p++) th[p] -= 0.02 * g[p];
  }
  for (size_t j = 0; j < P; j++) {
    memset(e, 0, sizeof(double) * P);
    e[j] = 1;
    ck_assert_int_eq(cgd_mlp_hvp(m, th, e, Hd + j * P, scr, &err), 0); /* row j = column j */
  }
  double asym = 0, nrm = 0;
  for (size_t i = 0; i < P; i++)
    for (size_t j = 0; j < P; j++) {
      asym = fmax(asym, fabs(Hd[i * P + j] - Hd[j * P + i]));
      nrm = fmax(nrm, fabs(Hd[i * P + j]));
    }
  ck_assert(asym <= 1e-12 * nrm);
  ck_assert_int_eq(cgd_sym_eigen(P, Hd, w, NULL, &err), 0);
  mlp_at c = {m, th, scr};
  cgd_sharpness sh;
  ck_assert_int_eq(cgd_sharpness_lanczos(P, mlp_hvp_at, &c, 60, NULL, &sh, vec, &err), 0);
  printf("mlp sharpness: dense top %.12g bottom %.6g; lanczos top %.12g (resid %.2g, %zu iters); 2/eta = 100\n",
         w[P - 1], w[0], sh.top, sh.resid, sh.iters);
  ck_assert_msg(fabs(sh.top - w[P - 1]) <= 1e-9 * fabs(w[P - 1]), "%.15g vs %.15g", sh.top, w[P - 1]);
  /* through the objective interface (per-call scratch) */
  cgd_objective *o;
  ck_assert_int_eq(cgd_mlp_objective_create(m, &o, &err), 0);
  cgd_sharpness sh2;
  ck_assert_int_eq(cgd_sharpness_objective(o, th, 60, vec, &sh2, NULL, &err), 0);
  ck_assert(fabs(sh2.top - w[P - 1]) <= 1e-9 * fabs(w[P - 1]));
  cgd_objective_free(o); /* frees m */
  cgd_objective *a = mk("matyas", "sincos2d", 1e-3);
  double x[2] = {0.31, -0.2};
  cgd_sharpness s1, s2;
  ck_assert_int_eq(cgd_sharpness_analytic(a, x, &s1, &err), 0);
  ck_assert_int_eq(cgd_sharpness_objective(a, x, 2, NULL, &s2, NULL, &err), 0);
  ck_assert(fabs(s1.top - s2.top) <= 1e-10 * fabs(s1.top) && fabs(s1.bottom - s2.bottom) <= 1e-9 * fabs(s1.top));
  cgd_objective_free(a);
  free(scr);
  free(th);
  cgd_dataset_free(ds);
}
END_TEST

/* Tangent and twin exponents on a short smooth stretch: at lr 0.0005 no unit flips on
 * 10³ steps is not guaranteed, but the twin at δ = 1e-8 follows the linearisation to
 * O(δ) per step, so the two per-step means agree to ≲ 1e-6 unless a kink is crossed,
 * which the twin_jumps counter reports. The driver form and the observer form agree. */
START_TEST(mlp_tangent_and_twin) {
  cgd_dataset *ds = airfoil();
  cgd_mlp *m;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(ds->n, ds->d, 16, 0.01, ds->X, ds->y, &m, &err), 0);
  const size_t P = cgd_mlp_nparams(m);
  double th[113], th2[113], g[113];
  cgd_mlp_init(m, 0, th);
  memcpy(th2, th, sizeof th);
  cgd_mlp_lyap *A, *B, *C;
  ck_assert_int_eq(cgd_mlp_lyap_create(m, th, 1e-8, 0, 0, 1, &A, &err), 0);
  ck_assert_int_eq(cgd_mlp_lyap_create(m, th, 1e-8, 0, 0, 50, &C, &err), 0); /* every 50 steps */
  ck_assert_int_eq(cgd_mlp_lyap_create(m, th, 1e-8, 0, 0, 1, &B, &err), 0);
  for (int t = 0; t < 1000; t++) {
    ck_assert_int_eq(cgd_mlp_lyap_step(A, th, 0.0005, NULL, NULL, &err), 0);
    ck_assert_int_eq(cgd_mlp_lyap_push(B, th2, 0.0005, &err), 0); /* observer: θ_t before */
    ck_assert_int_eq(cgd_mlp_lyap_push(C, th2, 0.0005, &err), 0);
    cgd_mlp_loss_grad(m, th2, g);
    for (size_t p = 0; p < P; p++) th2[p] -= 0.0005 * g[p];
  }
  cgd_mlp_lyap_result ra = cgd_mlp_lyap_result_get(A), rb = cgd_mlp_lyap_result_get(B);
  printf("mlp lr 0.0005, 1000 steps: tangent %.3e +- %.1e, twin %.3e +- %.1e, jumps %zu\n",
         ra.tangent.mean, ra.tangent.se, ra.twin.mean, ra.twin.se, ra.twin_jumps);
  ck_assert(fabs(ra.tangent.mean - rb.tangent.mean) < 1e-12);
  ck_assert(ra.twin_jumps > 0 || fabs(ra.tangent.mean - ra.twin.mean) < 1e-5);
  /* windows of 50: 19 complete windows after the first renormalisation */
  cgd_mlp_lyap_result rc = cgd_mlp_lyap_result_get(C);
  printf("  twin every 50 steps: %.3e (%zu windows)\n", rc.twin.mean, rc.twin.n);
  ck_assert_uint_eq(rc.twin.n, 19);
  ck_assert(rc.twin_jumps > 0 || fabs(rc.tangent.mean - rc.twin.mean) < 1e-5);
  cgd_mlp_lyap_free(C);
  cgd_mlp_lyap_free(A);
  cgd_mlp_lyap_free(B);
  cgd_mlp_free(m);
  cgd_dataset_free(ds);
}
END_TEST

int main(void) {
  openblas_set_num_threads(1); /* these skinny products are fastest on one thread */
  Suite *s = suite_create("lyapunov");
  TCase *tc = tcase_create("lyapunov");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, batch_means_iid_and_constant);
  tcase_add_test(tc, qr_known_linear_maps);
  tcase_add_test(tc, ensemble_matches_orbits);
  tcase_add_test(tc, ensemble_2d_matches_qr);
  tcase_add_test(tc, momentum_jacobians);
  tcase_add_test(tc, verdict_rules);
  tcase_add_test(tc, orbit1d_wells_hops_period);
  tcase_add_test(tc, mlp_hvp_vs_central_differences);
  tcase_add_test(tc, sharpness_vs_dense_hessian);
  tcase_add_test(tc, mlp_tangent_and_twin);
  suite_add_tcase(s, tc);
  return cgd_check_run(s);
}
